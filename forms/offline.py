"""A definition as the offline form needs it in the browser: sections and items with their labels
in both languages, option values and labels, which items are required, the skip logic and
constraints as JSON expressions, and how each control is read (`client_items`).

The domains add the record (answers, version), what the page shows of the elder or facility
(masked as online) and the pages to keep (`assessment/api_offline.py`, `rating/api_offline.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from forms.items import ITEM_KINDS, NA_LABEL, client_items, value_key
from scoring import Definition, Item
from scoring.engine import get_plan


def text(value: Any) -> dict[str, str] | None:
    """A bilingual label as {zh, en} (English falls back to Chinese, as on the pages)."""
    if value is None:
        return None
    return {"zh": value.zh, "en": value.en or value.zh}


def item_json(item: Item, required: bool) -> dict[str, Any]:
    """One item: what the review lists and the client checks offline."""
    return {
        "id": item.id, "type": item.type, "title": text(item.title), "required": required,
        "widget": ITEM_KINDS[item.type].widget if item.type in ITEM_KINDS else "input",
        "na": item.not_applicable_allowed,
        "options": [{"key": value_key(o.value), "value": o.value, "label": text(o.label) or
                     {"zh": str(o.value), "en": str(o.value)}, "points": o.points} for o in item.options],
        "min": item.min, "max": item.max, "max_length": item.max_length,
        "constraint_message": text(item.constraint_message),
    }


def definition_bundle(definition: Definition, sections: Iterable[Any],
                      field_name: Callable[[str], str]) -> dict[str, Any]:
    """The definition for the browser: `sections` are those the form shows, in order."""
    plan = get_plan(definition)
    shown = list(sections)

    def required(item: Item) -> bool:
        compiled = plan.items.get(item.id)
        return bool(compiled.required) if compiled is not None else bool(item.required)

    return {
        "id": definition.id, "version": definition.version, "kind": definition.kind,
        "title": text(definition.title),
        "sections": [{"id": s.id, "title": text(s.title), "items": [item_json(i, required(i)) for i in s.items]}
                     for s in shown],
        "logic": definition.skip_logic(),
        "items": client_items([i for s in shown for i in s.items], field_name),
        "na_label": dict(NA_LABEL),
    }
