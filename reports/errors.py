"""Errors raised by PDF rendering, with messages in Chinese for the people who see them."""

from __future__ import annotations


class RenderError(RuntimeError):
    """A document could not be rendered; ``str(error)`` is a message for the user."""

    def __init__(self, message: str, *, template: str | None = None) -> None:
        super().__init__(message)
        self.template = template


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
