"""Import WeasyPrint once, and install the two speed-ups that reach into its internals.

At import WeasyPrint warns when the HarfBuzz subsetter library is missing (a
DeprecationWarning; reports.fonts subsets the bundled TrueType fonts itself, so it is not
needed) and when the system has no fonts at all (documents use only the bundled fonts).
Both are facts about the host worth a log line, not errors: every module of this package
imports WeasyPrint through here.

The speed-ups depend on WeasyPrint 70's internals (pyproject pins ``weasyprint>=70,<71``):

- ``Font.subset`` (weasyprint/pdf/fonts.py) is routed to reports.fonts.subset_truetype, a
  cached glyph copier, for the bundled TrueType fonts;
- ``CSS`` as called by ``find_stylesheets`` (weasyprint/css/__init__.py) is routed through a
  cache, so the stylesheets shared by every document (``base.css``, a template's own
  ``<style>``) are parsed once per process instead of once per document.

Each checks that the internals look as expected before it is installed. If they do not
(another WeasyPrint version), it logs a warning and leaves WeasyPrint's own code in place:
documents stay correct, only slower.
"""

from __future__ import annotations

import inspect
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

log = logging.getLogger("yiyang.reports")

with warnings.catch_warnings(record=True) as _caught:
    warnings.simplefilter("always")
    import weasyprint
    from weasyprint import css as wp_css
    from weasyprint.pdf import fonts as pdf_fonts
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse
for _warning in _caught:
    log.info("WeasyPrint at import: %s", _warning.message)

SUPPORTED_MAJOR = 70
WEASYPRINT_MAJOR = int(str(weasyprint.__version__).split(".")[0])

__all__ = [
    "FontConfiguration",
    "cacheable_text",
    "URLFetcher",
    "URLFetcherResponse",
    "install_fast_subsetter",
    "install_stylesheet_cache",
    "pdf_fonts",
    "weasyprint",
]


# --- Font subsetting ---------------------------------------------------------------------


def _subset_internals_ok(font_class: Any) -> str | None:
    """None if ``Font.subset`` looks like WeasyPrint 70's, else what differs."""
    if WEASYPRINT_MAJOR != SUPPORTED_MAJOR:
        return f"WeasyPrint {weasyprint.__version__} is not {SUPPORTED_MAJOR}.x"
    subset = getattr(font_class, "subset", None)
    if subset is None:
        return "weasyprint.pdf.fonts.Font has no subset()"
    try:
        params = list(inspect.signature(subset).parameters)
    except (TypeError, ValueError):
        return "Font.subset has no readable signature"
    if params != ["self", "to_unicode", "hinting"]:
        return f"Font.subset takes {params}"
    if "file_content" not in inspect.getsource(font_class.__init__):
        return "Font no longer keeps the font program in file_content"
    return None


def install_fast_subsetter(
    is_fast: Callable[[bytes, int], bool], fast_subset: Callable[[bytes, Any], bytes],
) -> bool:
    """Route ``Font.subset`` to ``fast_subset`` for fonts where ``is_fast`` holds.

    Returns whether it is installed; if WeasyPrint's internals are not as expected it logs
    a warning and WeasyPrint keeps its own (slower) subsetting.
    """
    font_class = pdf_fonts.Font
    if getattr(font_class.subset, "_yiyang", False):
        return True
    problem = _subset_internals_ok(font_class)
    if problem:
        log.warning("Fast font subsetting disabled (%s): using WeasyPrint's own subsetting, "
                    "Chinese documents will render much more slowly", problem)
        return False
    original = font_class.subset
    warned: list[bool] = []

    def subset(self: Any, to_unicode: dict[int, str], hinting: bool) -> None:
        try:
            data, index = self.file_content, self.index
            fast = bool(to_unicode) and is_fast(data, index)
        except AttributeError as exc:  # Font changed shape: say so once, then fall back
            if not warned:
                warned.append(True)
                log.warning("Fast font subsetting skipped (%s): using WeasyPrint's own", exc)
            fast = False
        if fast:
            try:
                self.file_content = fast_subset(data, to_unicode)
                return
            except Exception:  # malformed font: let WeasyPrint's own subsetter try
                log.warning("fast subsetting failed for %s; using WeasyPrint's own",
                            getattr(self, "family", "?"), exc_info=True)
        original(self, to_unicode, hinting)

    subset._yiyang = True  # type: ignore[attr-defined]
    font_class.subset = subset
    return True


# --- Stylesheet cache ----------------------------------------------------------------------

# Keyword arguments find_stylesheets passes to CSS() for <style> and <link> in WeasyPrint 70.
_EXPECTED_CSS_KWARGS = frozenset({
    "string", "url", "base_url", "url_fetcher", "media_type", "font_config", "counter_style",
    "page_rules", "color_profiles", "layers", "_check_mime_type"})
# Rules that register state outside the stylesheet object: never served from the cache.
_UNCACHEABLE = ("@font-face", "@import", "@counter-style", "@layer", "@color-profile")
_MAX_CACHED_STRING = 200_000
_CACHE_SIZE = 64


class _StylesheetCache:
    """Parsed ``CSS`` objects for stylesheets seen before, keyed by their text or URL."""

    def __init__(self, real_css: Any, cacheable_url: Callable[[str], str | None]) -> None:
        self.real_css = real_css
        self.cacheable_url = cacheable_url  # url -> cache token (e.g. mtime) or None
        self.entries: OrderedDict[tuple, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self._key(args, kwargs)
        if key is None:
            return self.real_css(*args, **kwargs)
        with self.lock:
            sheet = self.entries.get(key)
            if sheet is not None:
                self.entries.move_to_end(key)
                self.hits += 1
                return sheet
        # Parse into lists of its own: the document's shared page_rules and layers would
        # otherwise carry this document's @page rules into the next one.
        fresh = dict(kwargs, page_rules=[], layers=[])
        sheet = self.real_css(*args, **fresh)
        with self.lock:
            self.misses += 1
            self.entries[key] = sheet
            while len(self.entries) > _CACHE_SIZE:
                self.entries.popitem(last=False)
        return sheet

    def _key(self, args: tuple, kwargs: dict[str, Any]) -> tuple | None:
        if args or not set(kwargs) <= _EXPECTED_CSS_KWARGS:
            return None  # e.g. @import (passes matcher and layer): not ours to cache
        media = kwargs.get("media_type")
        fetcher = type(kwargs.get("url_fetcher")).__name__
        text = kwargs.get("string")
        if text is not None:
            if not isinstance(text, str) or len(text) > _MAX_CACHED_STRING:
                return None
            if not cacheable_text(text):
                return None
            return ("string", text, kwargs.get("base_url"), media, fetcher)
        url = kwargs.get("url")
        if isinstance(url, str):
            token = self.cacheable_url(url)
            if token is not None:
                return ("url", url, token, media, fetcher)
        return None


def cacheable_text(text: str) -> bool:
    """Whether a stylesheet's text may be served from the cache (no rules with side effects
    outside the stylesheet object, such as @font-face adding to the font configuration)."""
    return not any(rule in text for rule in _UNCACHEABLE)


_cache: _StylesheetCache | None = None


def install_stylesheet_cache(cacheable_url: Callable[[str], str | None]) -> _StylesheetCache | None:
    """Serve repeated stylesheets of documents from a per-process cache of parsed CSS.

    ``cacheable_url(url)`` returns a token that changes when the file changes, or None for
    URLs never to cache (it must check the text with ``cacheable_text``). Returns the cache, or None (with a warning) if WeasyPrint's
    internals are not as expected.
    """
    global _cache
    if _cache is not None:
        return _cache
    problem = None
    if WEASYPRINT_MAJOR != SUPPORTED_MAJOR:
        problem = f"WeasyPrint {weasyprint.__version__} is not {SUPPORTED_MAJOR}.x"
    elif getattr(wp_css, "CSS", None) is not weasyprint.CSS:
        problem = "weasyprint.css no longer uses weasyprint.CSS"
    elif not callable(getattr(wp_css, "find_stylesheets", None)):
        problem = "weasyprint.css has no find_stylesheets()"
    else:
        params = set(inspect.signature(weasyprint.CSS.__init__).parameters)
        if not _EXPECTED_CSS_KWARGS - {"_check_mime_type"} <= params:
            problem = "weasyprint.CSS() takes other arguments"
    if problem:
        log.warning("Stylesheet cache disabled (%s): every document parses its CSS", problem)
        return None
    _cache = _StylesheetCache(weasyprint.CSS, cacheable_url)
    wp_css.CSS = _cache
    return _cache
