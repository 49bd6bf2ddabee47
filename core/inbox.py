"""Each role's inbox: the counters of work waiting for the user, each with a link to the list
that shows exactly those records, and the most urgent records themselves.

core knows no domain: each package registers its counters (as it registers menus with
core.navigation), and the home page and `GET /api/v1/inbox` read them all.

    register_inbox("assessment.drafts", _l("我的草稿"), roles=("assessor",),
                   count=lambda session, user: capped_count(session, stmt),
                   link=lambda user: ("assessment.index", {"status": "draft", "assessor": user.id}),
                   items=lambda session, user, limit: [InboxItem(...), ...])

`count` answers (n, more): at most core.paging.COUNT_CAP rows are counted, and `more` says
there are more than n (shown as "more than n", like the lists). `items` answers at most `limit`
records, the most urgent first; the inbox merges every counter's records by `due_at` (records
without a deadline after those with one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Flask, current_app, jsonify, url_for

from core.api import api_route
from core.auth import ROLES, current_actor
from core.i18n import N_

CountFn = Callable[[Any, Any], tuple[int, bool]]
LinkFn = Callable[[Any], tuple[str, dict[str, Any]]]
ItemsFn = Callable[[Any, Any, int], list["InboxItem"]]
ITEMS_LIMIT = 20  # the API's and the home page's first page of records
ACTION_LABELS = {  # what an item asks of the user (the API's `action`), as the home page shows it
    "continue": N_("继续填写"), "sign": N_("签名"), "review": N_("审核"), "reassess": N_("复评"),
    "inspect": N_("检查"), "approve": N_("审批"), "follow_up": N_("跟进整改"), "reinspect": N_("重新评定"),
}


@dataclass(frozen=True)
class InboxItem:
    kind: str  # the record's kind: assessment, elder, inspection, action, facility, …
    id: int
    title: str
    action: str  # what the user is asked to do: continue, sign, review, reassess, inspect, approve, …
    due_at: date | datetime | None = None
    endpoint: str = ""  # the page of the record (not in the API answer)
    args: tuple[tuple[str, Any], ...] = ()

    def public(self) -> dict[str, Any]:
        due = self.due_at.isoformat() if self.due_at is not None else None
        return {"kind": self.kind, "id": self.id, "title": self.title, "action": self.action, "due_at": due}


@dataclass(frozen=True)
class Counter:
    name: str
    label: Any
    roles: tuple[str, ...]
    count: CountFn
    link: LinkFn
    items: ItemsFn | None = None
    order: int = 50


@dataclass
class Entry:
    name: str
    label: Any
    count: int
    more: bool
    url: str


_COUNTERS: list[Counter] = []


def register_inbox(name: str, label: Any, *, roles: tuple[str, ...], count: CountFn, link: LinkFn,
                   items: ItemsFn | None = None, order: int = 50) -> None:
    """Add one counter to the inbox of users holding any of `roles` (registered once by name)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"inbox {name}: roles {sorted(roles)}")
    if all(c.name != name for c in _COUNTERS):
        _COUNTERS.append(Counter(name, label, roles, count, link, items, order))


def counters_for(user: Any) -> list[Counter]:
    """The counters this user's roles see, in order."""
    return [c for c in sorted(_COUNTERS, key=lambda c: (c.order, c.name)) if user.has_any_role(c.roles)]


def _sort_key(item: InboxItem) -> tuple[int, datetime]:
    due = item.due_at
    if due is None:
        return (1, datetime.max.replace(tzinfo=UTC))
    if not isinstance(due, datetime):
        return (0, datetime.combine(due, time.min, tzinfo=UTC))
    return (0, due if due.tzinfo else due.replace(tzinfo=UTC))


def entries(session: Any, user: Any) -> list[Entry]:
    """Every counter of the user with its count and the URL of its filtered list."""
    out = []
    for counter in counters_for(user):
        endpoint, args = counter.link(user)
        if endpoint not in current_app.view_functions:
            continue
        n, more = counter.count(session, user)
        out.append(Entry(counter.name, counter.label, n, more, url_for(endpoint, **args)))
    return out


def urgent_items(session: Any, user: Any, limit: int = ITEMS_LIMIT) -> list[InboxItem]:
    """The `limit` most urgent records over all the user's counters (earliest deadline first)."""
    found: dict[tuple[str, int, str], InboxItem] = {}
    for counter in counters_for(user):
        if counter.items is not None:
            for item in counter.items(session, user, limit):
                found.setdefault((item.kind, item.id, item.action), item)
    return sorted(found.values(), key=_sort_key)[:limit]


def item_url(item: InboxItem) -> str | None:
    if item.endpoint and item.endpoint in current_app.view_functions:
        return url_for(item.endpoint, **dict(item.args))
    return None


def init_app(app: Flask) -> None:
    """`inbox_entries()` and `inbox_items()` for the home page."""
    from core.db import get_session

    def inbox_entries() -> list[Entry]:
        user = current_actor()
        return entries(get_session(), user) if user is not None else []

    def inbox_items() -> list[dict[str, Any]]:
        user = current_actor()
        if user is None:
            return []
        return [{**item.public(), "url": item_url(item), "due": item.due_at}
                for item in urgent_items(get_session(), user, ITEMS_LIMIT)]

    app.jinja_env.globals.update(inbox_entries=inbox_entries, inbox_items=inbox_items, inbox_actions=ACTION_LABELS)


INBOX_SCHEMA = {"type": "object", "properties": {
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    "more": {"type": "object", "additionalProperties": {"type": "boolean"}},
    "links": {"type": "object", "additionalProperties": {"type": "string"}},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "kind": {"type": "string"}, "id": {"type": "integer"}, "title": {"type": "string"},
        "action": {"type": "string"}, "due_at": {"type": ["string", "null"]}}}}}}


@api_route("/inbox", methods=["GET"], roles=ROLES,
           summary="待办：本人各角色的待办计数（counts；more 为 true 表示“超过”该数）、对应列表链接和最紧急的记录 / "
                   "the caller's inbox: counts per counter, links to the filtered lists, the most urgent records",
           responses={200: INBOX_SCHEMA})
def inbox_api() -> Any:
    from core.db import get_session

    session, user = get_session(), current_actor()
    found = entries(session, user)
    return jsonify({"counts": {e.name: e.count for e in found}, "more": {e.name: e.more for e in found},
                    "links": {e.name: e.url for e in found},
                    "items": [item.public() for item in urgent_items(session, user, ITEMS_LIMIT)]})
