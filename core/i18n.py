"""Labels kept as data (code → Chinese label) and translated when a page shows them.

`N_()` marks a string for extraction without translating it at import time (the module is
imported before any request has a language). `Labels` wraps such a table for templates: every
label read through it comes back in the request's language.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo


def page_lang() -> str:
    """The request's language as the definitions name it: "en" on English pages (en, en_US...),
    "zh" otherwise and outside a request. The one test of "is this page English"."""
    from flask import has_request_context
    from flask_babel import get_locale

    locale = get_locale() if has_request_context() else None
    return "en" if locale is not None and locale.language == "en" else "zh"


def N_(message: str) -> str:
    """Mark a string for the translation catalog; it is translated where it is shown."""
    return message


class Labels(Mapping[str, str]):
    """A read-only code → label table whose labels are translated on every read."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = dict(table)

    def __getitem__(self, key: str) -> str:
        from flask_babel import gettext

        return str(gettext(self._table[key]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def local_time(value: datetime | None, *, seconds: bool = False) -> str:
    """A stored UTC time as people read it: in the organisation's time zone (setting TIMEZONE,
    Asia/Shanghai by default), "2026-12-02 13:05"."""
    if value is None:
        return ""
    from flask import current_app

    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_date(value: datetime | date | None) -> str:
    """The calendar day of a stored time in the organisation's time zone."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    return local_time(value)[:10]


def register_time_filters(app: Any) -> None:
    """`{{ t|localtime }}`, `{{ t|localtime(seconds=True) }}` and `{{ t|localdate }}`: the one way
    templates show a time."""
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["localdate"] = local_date
    from core.reasons import reason_text

    app.jinja_env.filters["reason_text"] = reason_text  # a reason the system wrote, in the page's language
