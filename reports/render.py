"""render_pdf: a Jinja template under templates/documents/ and a plain context to PDF bytes.

No Flask and no database here, so the same call works in a request, a CLI command and a
worker process. Per thread, the Jinja environment, WeasyPrint's font configuration and
the parsed font stylesheet are built once and reused: loading the CJK fonts is the
expensive part of a first render, and reusing it keeps later renders close to the cost of
a Latin-only document.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal

from jinja2 import (
    ChainableUndefined,
    Environment,
    FileSystemLoader,
    TemplateError,
    select_autoescape,
)

from reports._weasyprint import FontConfiguration, weasyprint
from reports._weasyprint import pdf_fonts as _wp_pdf_fonts
from reports.charts import bar_chart_svg
from reports.errors import MissingGlyphsError, RenderError, RenderTimeoutError
from reports.fetcher import TEMPLATE_DIR, SafeURLFetcher
from reports.fonts import font_face_css, is_fast_subsettable, missing_chars, subset_truetype
from reports.qr import qr_data_url

log = logging.getLogger("yiyang.reports")

DEFAULT_TIMEOUT_S = 30.0


def _install_fast_subsetter() -> None:
    """Route WeasyPrint's per-document font subsetting to the cached TrueType subsetter."""
    font_class = _wp_pdf_fonts.Font
    if getattr(font_class.subset, "_yiyang", False):
        return
    original = font_class.subset

    def subset(self: Any, to_unicode: dict[int, str], hinting: bool) -> None:
        if to_unicode and is_fast_subsettable(self.file_content, self.index):
            try:
                self.file_content = subset_truetype(self.file_content, to_unicode)
                return
            except Exception:  # malformed font: let WeasyPrint's own subsetter try
                log.debug("fast subsetting failed for %s", self.family, exc_info=True)
        original(self, to_unicode, hinting)

    subset._yiyang = True  # type: ignore[attr-defined]
    font_class.subset = subset


_install_fast_subsetter()


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


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    if seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum: int, frame: object) -> None:
            raise _Deadline

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return

    # Other threads (e.g. a threaded web server): a watchdog raises _Deadline in the
    # rendering thread at its next bytecode. The lock keeps it from firing after exit.
    target = threading.get_ident()
    lock = threading.Lock()
    finished = fired = False

    def interrupt() -> None:
        nonlocal fired
        with lock:
            if not finished:
                fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(_Deadline))

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            finished = True
            timer.cancel()
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
    except RenderError:
        raise
    except Exception as exc:
        log.exception("PDF rendering failed (%s)", template or "html")
        raise RenderError(f"PDF 生成失败：{type(exc).__name__}", template=template) from exc
    log.debug("rendered %s in %.3f s", template or "html", time.perf_counter() - started)
    if pdf is None:
        raise RenderError("PDF 生成失败：没有输出", template=template)
    return bytes(pdf)


def render_template(template: str, context: dict[str, Any]) -> str:
    """Render a document template to HTML (autoescaped)."""
    try:
        return _environment().get_template(template).render(**context)
    except TemplateError as exc:
        raise RenderError(f"文档模板错误（{template}）：{exc}", template=template) from exc


def render_pdf(template: str, context: dict[str, Any], *,
               timeout_s: float = DEFAULT_TIMEOUT_S,
               on_missing_glyph: Literal["warn", "error"] = "warn") -> bytes:
    """Render ``templates/documents/<template>`` with ``context`` to PDF bytes.

    Characters the bundled fonts lack are logged (``warn``; the text stays extractable
    and a system font is used if one has the glyph) or refused (``error``).
    Raises RenderError (RenderTimeoutError past ``timeout_s`` seconds).
    """
    html = render_template(template, context)
    missing = missing_chars((html,))
    if missing:
        if on_missing_glyph == "error":
            raise MissingGlyphsError(missing, template=template)
        log.warning("PDF %s: no bundled glyph for %s", template,
                    " ".join(f"{c} U+{ord(c):04X}" for c in missing))
    return render_html(html, timeout_s=timeout_s, template=template)
