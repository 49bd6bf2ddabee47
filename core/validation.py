"""A last line of defence for text lengths: before anything is written, every string is checked
against its column's length, so an over-long value is a clear 422 on every database (SQLite
would silently store it, PostgreSQL would fail the whole request)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, event
from sqlalchemy.orm import Session

from core.errors import DomainError, translate
from core.i18n import N_


class InputTooLong(DomainError, ValueError):
    """Values longer than their fields allow; `errors` lists each field with its limit."""

    separator = "; "

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        DomainError.__init__(self, None, status=422, code="invalid_input", errors=errors)

    def public_message(self) -> str:
        return translate(N_("输入内容过长：")) + "；".join(e["message"] for e in self.errors)

    def page_title(self) -> str:
        return translate(N_("输入内容过长"))


def _limit(column: Any) -> int | None:
    kind = getattr(column.type, "impl", column.type)  # SQLModel's AutoString wraps String
    limit = getattr(kind, "length", None)
    return limit if isinstance(kind, String) and limit else None


def _too_long(obj: Any) -> list[dict[str, Any]]:
    table = getattr(obj, "__table__", None)
    if table is None:
        return []
    problems = []
    for column in table.columns:
        limit = _limit(column)
        value = getattr(obj, column.key, None)
        if limit and isinstance(value, str) and len(value) > limit:
            problems.append({"item": column.key, "message": _l(
                "%(field)s 最多 %(limit)s 个字符，现在是 %(length)s 个。", field=column.key, limit=limit,
                length=len(value))})
    return problems


def length_problems(model: Any, values: Mapping[str, Any], fields: Iterable[str]) -> list[tuple[str, Any]]:
    """(field, message) for each of `fields` whose text in `values` is longer than the model's column
    allows: the guard's rule, for writes that do not pass a session flush (the imports' bulk inserts)."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    problems: list[tuple[str, Any]] = []
    for name in fields:
        limit, value = _limit(columns[name]), values.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            problems.append((name, _l("最多 %(limit)s 个字符，现在是 %(length)s 个。", limit=limit, length=len(value))))
    return problems


def _check_lengths(session: Session, _context: Any, _instances: Any) -> None:
    problems = [p for obj in (*session.new, *session.dirty) for p in _too_long(obj)]
    if problems:
        raise InputTooLong(problems)


def install_length_guard() -> None:
    """Check string lengths before every flush of every session (idempotent)."""
    if not event.contains(Session, "before_flush", _check_lengths):
        event.listen(Session, "before_flush", _check_lengths)


def _unreadable(value: Any, path: str) -> list[str]:
    """Paths of strings no database can store: NUL characters and UTF-16 halves left alone
    ("\\ud800" in JSON decodes to a lone surrogate that cannot be encoded as UTF-8)."""
    if isinstance(value, str):
        bad = "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
        return [path] if bad else []
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            found += _unreadable(str(key), here) + _unreadable(inner, here)
        return found
    if isinstance(value, list):
        return [p for n, inner in enumerate(value) for p in _unreadable(inner, f"{path}[{n}]")]
    return []


def unreadable_fields(query: Any, form: Any, json_body: Any) -> list[str]:
    """Names of the query parameters, form fields and JSON paths that hold text no database can
    store, so the request is refused with a 422 naming them instead of failing in the driver."""
    found: list[str] = []
    for source in (query, form):
        for name, value in source.items(multi=True) if source is not None else ():
            found += _unreadable(name, name) + _unreadable(value, name)
    return found + _unreadable(json_body, "")
