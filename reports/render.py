"""render_pdf: a Jinja template under templates/documents/ and a plain context to PDF bytes.

No Flask and no database here, so the same call works in a request, a CLI command and a
worker process. Per thread, the Jinja environment, WeasyPrint's font configuration and
the parsed font stylesheet are built once and reused: loading the CJK fonts is the
expensive part of a first render, and reusing it keeps later renders close to the cost of
a Latin-only document.

One module (a little over 400 lines) because every way of rendering here — one document, a
layout tree for tests, several documents as pages of one — shares the per-thread font state
and the time bound, which stay private to it.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import gc
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from html import unescape
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import (
    ChainableUndefined,
    Environment,
    FileSystemLoader,
    TemplateError,
    select_autoescape,
)

from core import metrics
from reports._weasyprint import (
    FontConfiguration,
    cacheable_text,
    install_fast_subsetter,
    install_stylesheet_cache,
    weasyprint,
)
from reports.charts import bar_chart_svg
from reports.errors import (
    MissingGlyphsError,
    RenderError,
    RenderMemoryError,
    RenderTimeoutError,
)
from reports.fetcher import TEMPLATE_DIR, SafeURLFetcher
from reports.fonts import font_face_css, is_fast_subsettable, missing_chars, subset_truetype
from reports.qr import qr_data_url

log = logging.getLogger("yiyang.reports")

DEFAULT_TIMEOUT_S = 30.0


def _cacheable_stylesheet(url: str) -> str | None:
    """A cache token for a packaged stylesheet (``templates/documents/*.css``), else None."""
    if not url.startswith("file:"):
        return None
    try:
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve(strict=True)
        if not path.is_relative_to(TEMPLATE_DIR) or path.suffix != ".css":
            return None
        stat = path.stat()
    except (OSError, RuntimeError, ValueError):
        return None
    return _stylesheet_token(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _stylesheet_token(path: str, mtime_ns: int, size: int) -> str | None:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return f"{mtime_ns}:{size}" if cacheable_text(text) else None


install_fast_subsetter(is_fast_subsettable, subset_truetype)
install_stylesheet_cache(_cacheable_stylesheet)


# --- Jinja -------------------------------------------------------------------------------


def mask_id_number(value: object) -> str:
    """Mask a resident ID number for print: first 6 and last 4 characters kept."""
    text = "" if value is None else str(value)
    if len(text) <= 10:
        return text[:1] + "*" * max(len(text) - 2, 0) + text[-1:] if len(text) > 2 else text
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: object) -> str:
    text = "" if value is None else str(value)
    return text[:3] + "****" + text[7:] if len(text) >= 11 else text


def format_date(value: object, fmt: str = "%Y年%m月%d日") -> str:
    """A date as 2025年01月31日; ISO strings are accepted, other strings pass through."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, date | datetime):
        return value.strftime(fmt)
    return str(value)


def build_environment() -> Environment:
    """The Jinja environment for documents: autoescaped; optional keys may be absent."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=ChainableUndefined,  # optional context keys render empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(mask_id=mask_id_number, mask_phone=mask_phone, date=format_date)
    env.globals.update(bar_chart_svg=bar_chart_svg, qr_data_url=qr_data_url)
    return env


class _ThreadState(threading.local):
    env: Environment | None = None
    font_config: Any = None
    font_css: Any = None
    renders: int = 0


_state = _ThreadState()

# A font configuration accumulates Pango caches; start a fresh one now and then so a
# long-lived worker stays flat.
_RENEW_FONTS_EVERY = 500


def _environment() -> Environment:
    if _state.env is None:
        _state.env = build_environment()
    return _state.env


def _fonts(fetcher: SafeURLFetcher) -> tuple[Any, Any]:
    if _state.font_config is None or _state.renders >= _RENEW_FONTS_EVERY:
        font_config = FontConfiguration()
        _state.font_css = weasyprint.CSS(
            string=font_face_css(), font_config=font_config, url_fetcher=fetcher)
        _state.font_config = font_config
        _state.renders = 0
    _state.renders += 1
    return _state.font_config, _state.font_css


def warm_up() -> None:
    """Load the fonts and the environment of this thread ahead of the first document."""
    render_html('<p style="font-family: \'Yiyang Serif\'">预热 <b>预热</b></p>'
                '<p style="font-family: \'Yiyang Sans\'">预热 <b>预热</b></p>')


# --- Time bound ----------------------------------------------------------------------------


class _Deadline(BaseException):
    """Raised inside the rendering thread when the time is up (not an Exception, so
    WeasyPrint's broad ``except Exception`` handlers cannot swallow it)."""


def _quiet_deadline_hook(previous: Any) -> Any:
    """An unraisable-exception hook that drops our own _Deadline (it lands inside a finaliser and
    is sent again; see below) and hands anything else on. Reporting it would run other code, a
    test runner's formatting say, while the repeating deadline may strike again inside it."""
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, _Deadline) or unraisable.exc_type is _Deadline:
            return
        previous(unraisable)
    return hook


@contextmanager
def _quiet_unraisable() -> Iterator[None]:
    previous = sys.unraisablehook
    hook = _quiet_deadline_hook(previous)
    sys.unraisablehook = hook
    try:
        yield
    finally:
        if sys.unraisablehook is hook:  # another render in another thread may have replaced it
            sys.unraisablehook = previous


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    if seconds <= 0:
        yield
        return
    with _quiet_unraisable(), _armed(seconds):
        yield


@contextmanager
def _armed(seconds: float) -> Iterator[None]:
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum: int, frame: object) -> None:
            raise _Deadline

        previous = signal.signal(signal.SIGALRM, on_alarm)
        # Repeat every 0.25 s: an exception raised while a finaliser runs is swallowed by Python.
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return

    # Other threads (e.g. a threaded web server): a watchdog raises _Deadline in the
    # rendering thread at its next bytecode. An asynchronous exception that lands inside a
    # finaliser (__del__) is swallowed by Python, so the watchdog repeats it until the thread
    # has left this block. The lock keeps it from firing after exit.
    target = threading.get_ident()
    lock = threading.Lock()
    done = threading.Event()
    fired = False

    def watchdog() -> None:
        nonlocal fired
        if done.wait(seconds):
            return
        while True:
            with lock:
                if done.is_set():
                    return
                fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(_Deadline))
            if done.wait(0.25):
                return

    timer = threading.Thread(target=watchdog, name="pdf-deadline", daemon=True)
    timer.start()
    try:
        yield
    finally:
        with lock:
            done.set()
            if fired:  # drop a _Deadline still pending, so it cannot fire after exit
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)


# --- Rendering -------------------------------------------------------------------------------


def render_html(html: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                template: str | None = None) -> bytes:
    """Render an HTML string (already trusted: from our templates) to PDF bytes."""
    fetcher = SafeURLFetcher()
    started = time.perf_counter()
    try:
        with _deadline(timeout_s):
            font_config, font_css = _fonts(fetcher)
            document = weasyprint.HTML(
                string=html, base_url=TEMPLATE_DIR.as_uri() + "/", url_fetcher=fetcher)
            pdf = document.write_pdf(
                stylesheets=[font_css], font_config=font_config, attachments=[])
    except _Deadline:
        # The interrupted font configuration may be half-updated: start afresh next time.
        _state.font_config = None
        raise RenderTimeoutError(
            f"PDF 生成超时：超过 {timeout_s:g} 秒仍未完成，已停止。请精简文档内容后重试。",
            template=template) from None
    except MemoryError:
        # Free the half-built document now. The fonts stay: layout only reads them, and
        # reloading them is what a process short of memory could not do.
        gc.collect()
        with contextlib.suppress(MemoryError):  # logging allocates too; the error below must still go up
            log.error("PDF rendering ran out of memory (%s)", template or "html")
        raise RenderMemoryError(
            "PDF 生成失败：文档过大，超出内存上限，已停止。请精简文档内容（如减少表格行数）后重试。",
            template=template) from None
    except RenderError:
        raise
    except Exception as exc:
        log.exception("PDF rendering failed (%s)", template or "html")
        raise RenderError(f"PDF 生成失败：{type(exc).__name__}", template=template) from exc
    elapsed = time.perf_counter() - started
    log.debug("rendered %s in %.3f s", template or "html", elapsed)
    metrics.observe_pdf_render(template, elapsed)
    if pdf is None:
        raise RenderError("PDF 生成失败：没有输出", template=template)
    return bytes(pdf)


def render_template(template: str, context: dict[str, Any]) -> str:
    """Render a document template to HTML (autoescaped)."""
    try:
        return _environment().get_template(template).render(**context)
    except TemplateError as exc:
        raise RenderError(f"文档模板错误（{template}）：{exc}", template=template) from exc


# --- Characters no bundled font has -------------------------------------------------------

PLACEHOLDER = "\u3013"  # 〓 GETA MARK, the traditional mark for a character that cannot be set
MissingGlyphPolicy = Literal["replace", "warn", "error"]
_TAG = re.compile(r"(<[^>]*>)")
# Variation selectors only choose a glyph variant; without a font for them they are dropped
# (and reported) rather than shown as a placeholder.
_INVISIBLE = frozenset([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])


def _text_parts(html: str) -> list[str]:
    """The text between tags (element content, including inline SVG text and styles)."""
    return _TAG.split(html)[::2]


def replace_missing(html: str, missing: list[str]) -> str:
    """``html`` with each character of ``missing`` outside tags replaced by 〓."""
    table = {ord(c): ("" if ord(c) in _INVISIBLE else PLACEHOLDER) for c in missing}
    parts = _TAG.split(html)
    parts[::2] = [part.translate(table) for part in parts[::2]]
    return "".join(parts)


def render_pdf(template: str, context: dict[str, Any], *,
               timeout_s: float = DEFAULT_TIMEOUT_S,
               on_missing_glyph: MissingGlyphPolicy = "replace",
               missing_glyphs: list[str] | None = None) -> bytes:
    """Render ``templates/documents/<template>`` with ``context`` to PDF bytes.

    Characters that no bundled font has (e.g. 𠮷 U+20BB7) are handled by
    ``on_missing_glyph``:

    - ``"replace"`` (default): each is printed as 〓 (U+3013), so the rest of the text stays
      extractable and searchable; a warning with the code points is logged.
    - ``"warn"``: kept as they are and logged. WeasyPrint then draws them with a system font
      if one has them, or as a blank box; a PDF text extractor may fail to decode the other
      text set in the same font.
    - ``"error"``: refused with MissingGlyphsError (listing them), nothing is rendered.

    Whatever the policy, the characters found are appended to ``missing_glyphs`` when a list
    is given, so callers can show them. Raises RenderError (RenderTimeoutError past
    ``timeout_s`` seconds, RenderMemoryError when the worker's memory cap is reached).
    """
    html = document_html(template, context, on_missing_glyph=on_missing_glyph,
                         missing_glyphs=missing_glyphs)
    return render_html(html, timeout_s=timeout_s, template=template)


def layout_document(template: str, context: dict[str, Any]) -> Any:
    """WeasyPrint's laid-out document (``.pages[i]._page_box`` is the layout tree) of what
    render_pdf prints: for checking where something lands on the page, e.g. that the
    certificate's verification link stays inside its frame."""
    fetcher = SafeURLFetcher()
    font_config, font_css = _fonts(fetcher)
    return weasyprint.HTML(string=document_html(template, context), base_url=TEMPLATE_DIR.as_uri() + "/",
                           url_fetcher=fetcher).render(stylesheets=[font_css], font_config=font_config)


def document_html(template: str, context: dict[str, Any], *,
                  on_missing_glyph: MissingGlyphPolicy = "replace",
                  missing_glyphs: list[str] | None = None) -> str:
    """The HTML render_pdf lays out: the template filled in, missing glyphs handled."""
    html = render_template(template, context)
    missing = missing_chars(_text_parts(html))
    if missing:
        if missing_glyphs is not None:
            missing_glyphs.extend(missing)
        if on_missing_glyph == "error":
            raise MissingGlyphsError(missing, template=template)
        shown = " ".join(f"{c} U+{ord(c):04X}" for c in missing)
        if on_missing_glyph == "replace":
            log.warning("PDF %s: no bundled glyph for %s; printed as 〓", template, shown)
            html = replace_missing(html, missing)
        else:
            log.warning("PDF %s: no bundled glyph for %s", template, shown)
    return html


# --- Several documents laid out as pages of one ----------------------------------------------

# A template whose documents may be laid out together declares it (certificate.html):
#   <meta name="yiyang-batch" content="pages">
# i.e. nothing on a page depends on the other documents (no counter(pages), no links
# between them). Layout and style of a shared head are then done once per chunk.
_BATCH_META = '<meta name="yiyang-batch" content="pages">'
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _split_document(html: str) -> tuple[str, str, str] | None:
    """(head without title, title, body content) of a template's HTML, if plainly shaped."""
    if html.count("<body>") != 1 or html.count("</body>") != 1:
        return None
    head, rest = html.split("<body>")
    body, _tail = rest.split("</body>")
    match = _TITLE.search(head)
    title = match.group(1) if match else ""
    return _TITLE.sub("", head, count=1), title, body


def render_pages(htmls: list[str], *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 template: str | None = None) -> list[bytes] | None:
    """Lay out several documents of one template as pages of one, and write each document
    (its own pages, fonts subset to its own text) as a separate PDF.

    Returns None when the documents cannot be laid out together (the template does not
    declare it, the heads differ, the pages cannot be told apart, or anything fails): the
    caller then renders them one by one, which also attributes any error to its document.
    """
    if len(htmls) < 2 or any(_BATCH_META not in html for html in htmls):
        return None
    parts = [_split_document(html) for html in htmls]
    if any(p is None for p in parts) or len({p[0] for p in parts}) != 1:  # type: ignore[index]
        return None
    head = parts[0][0]  # type: ignore[index]
    bodies = "".join(
        f'<div id="yiyang-doc-{i}" style="page-break-before: always">{p[2]}</div>'  # type: ignore[index]
        for i, p in enumerate(parts))
    html = f"{head}<body>{bodies}</body></html>"
    fetcher = SafeURLFetcher()
    try:
        with _deadline(timeout_s * len(htmls)):
            font_config, font_css = _fonts(fetcher)
            document = weasyprint.HTML(
                string=html, base_url=TEMPLATE_DIR.as_uri() + "/", url_fetcher=fetcher,
            ).render(stylesheets=[font_css], font_config=font_config)
            starts = {}
            for number, page in enumerate(document.pages):
                for anchor in page.anchors:
                    if anchor.startswith("yiyang-doc-"):
                        starts.setdefault(int(anchor[11:]), number)
            order = [starts.get(i) for i in range(len(htmls))]
            if order[0] != 0 or None in order or order != sorted(set(order)):  # type: ignore[type-var]
                log.info("batch layout of %s: pages do not map to documents", template)
                return None
            bounds = [*order, len(document.pages)]
            pdfs = []
            for i, (_head, title, _body) in enumerate(parts):  # type: ignore[misc]
                single = document.copy(document.pages[bounds[i] : bounds[i + 1]])
                single.metadata = copy.copy(document.metadata)
                single.metadata.title = unescape(title.strip()) or None
                pdfs.append(bytes(single.write_pdf(attachments=[])))
    except _Deadline:
        _state.font_config = None
        return None
    except MemoryError:
        gc.collect()
        return None
    except Exception:
        log.info("batch layout of %s failed; rendering one by one", template, exc_info=True)
        return None
    return pdfs
