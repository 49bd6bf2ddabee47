"""Errors raised by PDF rendering, with messages in Chinese for the people who see them."""

from __future__ import annotations

from core.errors import DomainError
from core.i18n import N_


class RenderError(DomainError, RuntimeError):
    """A document could not be rendered; ``str(error)`` is a message for the user. The record
    the document shows is already stored; the answer is a 503 that says so (retry later)."""

    status = 503
    code = "render_failed"
    headers = {"Retry-After": "10"}

    def __init__(self, message: str, *, template: str | None = None) -> None:
        DomainError.__init__(self, message)
        self.template = template

    def public_message(self) -> str:
        from flask_babel import gettext

        return str(gettext(N_("文档生成失败：%(reason)s。记录已保存，不受影响，请稍后重试。"),
                           reason=self.message))


class RenderTimeoutError(RenderError):
    """Rendering ran past its time limit and was stopped."""


class RenderMemoryError(RenderError):
    """Rendering needed more memory than the worker may use and was stopped."""


class MissingGlyphsError(RenderError):
    """The text uses characters that no bundled font can draw (``on_missing_glyph="error"``)."""

    def __init__(self, chars: list[str], *, template: str | None = None) -> None:
        listed = "、".join(f"{c}（U+{ord(c):04X}）" for c in chars)
        super().__init__(f"内置字体缺少以下字符，无法正确显示：{listed}", template=template)
        self.chars = chars
