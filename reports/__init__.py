"""PDF rendering for Yiyang: reports, notices, certificates and blank forms.

Templates live in ``templates/documents/`` and are plain HTML and CSS; the bundled CJK
fonts are declared for them (families "Yiyang Serif" and "Yiyang Sans"). Everything a
document loads goes through a deny-by-default URL fetcher. No Flask and no database.
"""

from reports.batch import render_batch
from reports.charts import bar_chart_svg, column_chart_svg, count_bars_svg
from reports.errors import MissingGlyphsError, RenderError, RenderMemoryError, RenderTimeoutError
from reports.fonts import missing_chars
from reports.qr import qr_data_url
from reports.render import (
    DEFAULT_TIMEOUT_S,
    PLACEHOLDER,
    build_environment,
    layout_document,
    mask_id_number,
    render_html,
    render_pdf,
    render_template,
    warm_up,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MissingGlyphsError",
    "PLACEHOLDER",
    "RenderError",
    "RenderMemoryError",
    "RenderTimeoutError",
    "bar_chart_svg",
    "column_chart_svg",
    "count_bars_svg",
    "build_environment",
    "layout_document",
    "mask_id_number",
    "missing_chars",
    "qr_data_url",
    "render_batch",
    "render_html",
    "render_pdf",
    "render_template",
    "warm_up",
]
