"""The main menu and the home page's cards, contributed by each domain package.

    register_nav("assessment.index", _l("评估"), roles=("assessor", "reviewer"), order=10)
    register_home_card("assessment.new", _l("开始评估"), _l("为老年人开始一次能力评估"),
                       roles=("assessor",), count=lambda user: ...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request, url_for


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: Any
    roles: tuple[str, ...]
    order: int = 50
    text: Any = ""
    count: Callable[[Any], int | None] | None = None


_NAV: list[Entry] = []
_CARDS: list[Entry] = []


def register_nav(endpoint: str, label: Any, *, roles: tuple[str, ...] = (), order: int = 50) -> None:
    if all(e.endpoint != endpoint for e in _NAV):
        _NAV.append(Entry(endpoint, label, roles, order))


def register_home_card(endpoint: str, title: Any, text: Any, *, roles: tuple[str, ...] = (),
                       order: int = 50, count: Callable[[Any], int | None] | None = None) -> None:
    if all(e.endpoint != endpoint for e in _CARDS):
        _CARDS.append(Entry(endpoint, title, roles, order, text, count))


def _allowed(entry: Entry, user: Any) -> bool:
    return entry.endpoint in current_app.view_functions and (
        not entry.roles or user.has_any_role(entry.roles)
    )


def init_app(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_login import current_user

    def nav_items() -> list[dict[str, Any]]:
        items = []
        for entry in sorted(_NAV, key=lambda e: e.order):
            if _allowed(entry, current_user):
                items.append({"url": url_for(entry.endpoint), "label": entry.label,
                              "active": request.endpoint == entry.endpoint})
        return items

    def home_cards() -> list[dict[str, Any]]:
        cards = []
        for entry in sorted(_CARDS, key=lambda e: e.order):
            if _allowed(entry, current_user):
                cards.append({"url": url_for(entry.endpoint), "title": entry.label, "text": entry.text,
                              "count": entry.count(current_user) if entry.count else None})
        return cards

    def current_locale() -> str:
        return str(get_locale() or "zh")

    app.jinja_env.globals.update(nav_items=nav_items, home_cards=home_cards, current_locale=current_locale)
