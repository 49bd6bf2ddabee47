"""Import WeasyPrint once, turning its import-time warnings into log records.

At import WeasyPrint warns when the HarfBuzz subsetter library is missing (a
DeprecationWarning; reports.fonts subsets the bundled TrueType fonts itself, so it is not
needed) and when the system has no fonts at all (documents use only the bundled fonts).
Both are facts about the host worth a log line, not errors: every module of this package
imports WeasyPrint through here.
"""

from __future__ import annotations

import logging
import warnings

log = logging.getLogger("yiyang.reports")

with warnings.catch_warnings(record=True) as _caught:
    warnings.simplefilter("always")
    import weasyprint
    from weasyprint.pdf import fonts as pdf_fonts
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse
for _warning in _caught:
    log.info("WeasyPrint at import: %s", _warning.message)

__all__ = ["FontConfiguration", "URLFetcher", "URLFetcherResponse", "pdf_fonts", "weasyprint"]
