"""Keyset paging for every list: filtered and sorted in SQL, `cursor` + `limit` in the request.

    page = paginate(session, stmt, [Sort(Assessment.updated_at, desc=True), Sort(Assessment.id, desc=True)],
                    key=lambda row: (row[0].updated_at, row[0].id), params=page_params(request.args))

The sort always ends with the row id, so ties are broken the same way on every page and a row
added while somebody pages is neither lost nor shown twice. The cursor is opaque to clients
(url-safe base64 of the last row's sort key and a direction); a cursor that does not decode is
a 422 naming `cursor`. Previous pages read the same index backwards.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, any_, bindparam, false, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
COUNT_CAP = 1000  # beyond this a page says "more than 1000" instead of counting everything


class PagingError(ValueError):
    """A bad `cursor` or `limit`: the caller answers 422 naming the field."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(message)
        self.item, self.message = item, message


@dataclass(frozen=True)
class Sort:
    column: Any
    desc: bool = False


@dataclass(frozen=True)
class PageParams:
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    extra: dict[str, Any] = field(default_factory=dict)


def page_params(args: Mapping[str, Any], *, default_limit: int = DEFAULT_LIMIT) -> PageParams:
    """`cursor` and `limit` from query arguments (1 ≤ limit ≤ 500, default 50)."""
    raw = (args.get("limit") or "").strip() if isinstance(args.get("limit"), str) else args.get("limit")
    if raw in (None, ""):
        limit = default_limit
    else:
        text = str(raw)
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise PagingError("limit", f"limit 应为 1 到 {MAX_LIMIT} 之间的整数")
        limit = int(text)
        if not 1 <= limit <= MAX_LIMIT:
            raise PagingError("limit", f"limit 应为 1 到 {MAX_LIMIT} 之间的整数")
    cursor = args.get("cursor") or None
    if cursor is not None:
        decode_cursor(str(cursor))  # fail early, naming the field
    return PageParams(cursor=cursor, limit=limit)


def choice_arg(args: Mapping[str, Any], name: str, allowed: Any) -> str | None:
    """A list filter that takes one of `allowed` (anything else names the field)."""
    value = args.get(name) or None
    if value is not None and value not in allowed:
        raise PagingError(name, f"{name} 可选：" + " / ".join(allowed))
    return value


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot page on {type(value).__name__}")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "t" and isinstance(text, str):
            return datetime.fromisoformat(text)
        if tag == "d" and isinstance(text, str):
            return date.fromisoformat(text)
        raise ValueError(tag)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError(value)


def encode_cursor(key: Sequence[Any], direction: str = "n") -> str:
    blob = json.dumps({"k": [_encode_value(v) for v in key], "d": direction}, separators=(",", ":"),
                      ensure_ascii=False)
    return base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[list[Any], str]:
    """(sort key, direction 'n' for next or 'p' for previous)."""
    try:
        if len(cursor) > 2000:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        key, direction = data["k"], data["d"]
        if not isinstance(key, list) or direction not in ("n", "p"):
            raise ValueError("shape")
        return [_decode_value(v) for v in key], direction
    except (ValueError, KeyError, TypeError, UnicodeError) as error:
        raise PagingError("cursor", "cursor 无效：请从第一页重新开始") from error


def _after(sort: Sequence[Sort], key: Sequence[Any], forward: bool) -> ColumnElement[bool]:
    """Rows strictly after `key` in the sort order (before it when not forward).

    Written as (a > x) OR (a = x AND b > y) OR …, which both databases turn into an index range."""
    clauses = []
    for depth, part in enumerate(sort):
        later = part.column < key[depth] if part.desc == forward else part.column > key[depth]
        equal = [sort[i].column == key[i] for i in range(depth)]
        clauses.append(and_(*equal, later) if equal else later)
    return or_(*clauses) if clauses else false()


def paginate(session: Any, stmt: Select[Any], sort: Sequence[Sort], key: Callable[[Any], Sequence[Any]],
             params: PageParams, *, scalars: bool = False) -> Page:
    """One page of `stmt` in `sort` order, after (or before) the cursor's row."""
    direction = "n"
    forward = True
    if params.cursor:
        values, direction = decode_cursor(params.cursor)
        if len(values) != len(sort) or any(v is None for v in values):
            raise PagingError("cursor", "cursor 无效：请从第一页重新开始")
        forward = direction == "n"
        stmt = stmt.where(_after(sort, values, forward))
    order = [(s.column.desc() if s.desc == forward else s.column.asc()) for s in sort]
    stmt = stmt.order_by(None).order_by(*order).limit(params.limit + 1)
    result = session.execute(stmt)
    rows = list(result.scalars() if scalars else result)
    has_more = len(rows) > params.limit
    rows = rows[:params.limit]
    if not forward:
        rows.reverse()
    page = Page(items=rows, limit=params.limit)
    if rows:
        first, last = key(rows[0]), key(rows[-1])
        if (forward and has_more) or (not forward and params.cursor):
            page.next_cursor = encode_cursor(last, "n")
        if (not forward and has_more) or (forward and params.cursor):
            page.prev_cursor = encode_cursor(first, "p")
    elif params.cursor and not forward:
        page.next_cursor = None
    return page


def attach(session: Any, page: Page, model: Any, key: Callable[[Any], Any]) -> None:
    """Pair each item of a page with its row of `model` (by primary key, one IN query; None when
    missing): lists page one table through its own index and join the rest for 50 rows only."""
    wanted = {key(item) for item in page.items} - {None}
    found = {}
    if wanted:
        pk = model.__table__.primary_key.columns.values()[0]
        found = {getattr(row, pk.name): row for row in session.execute(select(model).where(pk.in_(wanted))).scalars()}
    page.items = [(item, found.get(key(item))) for item in page.items]


def capped_count(session: Any, stmt: Select[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, more): counts at most `cap` + 1 rows, so a page never counts a whole table."""
    inner = stmt.order_by(None).limit(cap + 1).subquery()
    found = session.execute(select(func.count()).select_from(inner)).scalar_one()
    return min(found, cap), found > cap


# A scope of more organisations than this goes to PostgreSQL as one array parameter: measured with
# a province's 3,026 organisations, `IN` with one parameter per id cost 15–58 ms per statement
# (binding and planning), `= ANY(:ids)` 3 ms (docs/performance.md, "A province's organisations").
IN_ARRAY_AT = 64


def in_ids(session: Any, column: Any, ids: Sequence[int]) -> Any:
    """`column IN ids` for a scope of organisation (or other) ids: a long list on PostgreSQL as
    one array parameter, anything else as SQL's IN (SQLite has no arrays)."""
    if len(ids) > IN_ARRAY_AT and session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer), unique=True))
    return column.in_(ids)


def literal_contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, case-insensitively, with % and _ taken literally."""
    return column.icontains(text, autoescape=True)  # type: ignore[no-any-return]


# What each list filter means, for the OpenAPI document of the lists and exports (one table).
FILTER_DOCS: dict[str, tuple[str, dict[str, Any]]] = {
    "q": ("姓名包含（或脱敏身份证号，如 110105********002X）/ name contains, or a masked ID number", {"type": "string"}),
    "org": ("机构编号：该机构及其下级 / organisation id: its subtree", {"type": "integer"}),
    "status": ("状态 / status", {"type": "string"}),
    "level": ("等级代码 / level code", {"type": "integer"}),
    "community": ("社区（完全一致）/ community, exact", {"type": "string"}),
    "district": ("区（完全一致）/ district, exact", {"type": "string"}),
    "from": ("起始日期（含）YYYY-MM-DD / from this day", {"type": "string", "format": "date"}),
    "to": ("截止日期（含）YYYY-MM-DD / to this day", {"type": "string", "format": "date"}),
    "due_from": ("应复评日期起（含）/ next reassessment from", {"type": "string", "format": "date"}),
    "due_to": ("应复评日期止（含）/ next reassessment to", {"type": "string", "format": "date"}),
    "instrument": ("评估工具编号 / instrument id", {"type": "string"}),
    "scheme": ("评定方案编号 / rating scheme id", {"type": "string"}),
    "assessor": ("开始评估的评估员编号 / assessor (user id)", {"type": "integer"}),
    "inspector": ("开始检查的检查员编号 / inspector (user id)", {"type": "integer"}),
    "elder": ("老人编号 / elder id", {"type": "integer"}),
    "facility": ("机构（养老机构）编号 / facility id", {"type": "integer"}),
    "plan": ("检查计划编号 / inspection plan id", {"type": "integer"}),
    "inspection": ("检查编号 / inspection id", {"type": "integer"}),
    "reason": ("评估原因 initial|routine|immediate|review / reason", {"type": "string"}),
    "current": ("1：只要现行版本（未被更正取代）/ 1: current versions only", {"type": "string", "enum": ["0", "1"]}),
    "which": ("open|due_soon|overdue|closed|all", {"type": "string"}),
    "severity": ("critical|major|minor", {"type": "string"}),
    "revoked": ("0|1：是否已撤销 / revoked", {"type": "string", "enum": ["0", "1"]}),
    "kind": ("类型 / kind", {"type": "string"}),
    "grade": ("当前等级代码 / current grade code", {"type": "integer"}),
    "cursor": ("上一页答复中的 next_cursor / next_cursor of the previous page", {"type": "string"}),
    "limit": (f"每页条数 1-{MAX_LIMIT}，默认 {DEFAULT_LIMIT} / page size", {"type": "integer", "minimum": 1,
                                                                     "maximum": MAX_LIMIT}),
}


def query_params(*names: str) -> list[dict[str, Any]]:
    """OpenAPI query parameters of a list's filters (see FILTER_DOCS)."""
    return [{"name": name, "in": "query", "required": False, "description": FILTER_DOCS[name][0],
             "schema": FILTER_DOCS[name][1]} for name in names]
