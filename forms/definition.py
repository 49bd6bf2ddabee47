"""WTForms built from definition items, through the item-type registry (`forms.items`).

Generic on purpose: an assessment page builds a form for one section's items, an inspection
checklist for all its lines. The form only converts between HTML form data and answer values; the
definition's own checks (ranges, constraints, required, skip logic) run in `scoring`, so the
form, the API and the CLI agree. What the user typed is kept, even when it does not parse:
`answers_from_form` returns the raw text so a draft never loses it, and `attach_errors` puts the
engine's messages next to the item (and marks the field invalid for assistive technology).

    ItemForm = build_form_class(section.items)
    form = ItemForm(formdata=request.form or None, data=form_data_from_answers(section.items, saved))
    answers = answers_from_form(form)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wtforms import Form
from wtforms.fields import BooleanField, Field

from forms.items import ITEM_KINDS, NA_LABEL, ItemKind, kind_of
from scoring import NA, Item

FIELD_BUILDERS = {name: kind.build for name, kind in ITEM_KINDS.items()}
"""Item type → field builder (from the registry)."""


@dataclass(frozen=True)
class ItemField:
    """One item with its field (and, for typed inputs that allow N/A, its N/A checkbox)."""

    item: Item
    field: Any
    na_field: Any | None

    @property
    def kind(self) -> ItemKind:
        return kind_of(self.item)


def field_name(item_id: str) -> str:
    """A form field name for an item id (ids such as B.1.1 hold dots)."""
    return "q_" + re.sub(r"[^0-9A-Za-z]", "_", item_id)


class DefinitionForm(Form):
    """Base of built forms; `item_fields()` yields the items in order with their fields."""

    _items: tuple[Item, ...] = ()

    def item_fields(self, items: Iterable[Item] | None = None) -> Iterator[ItemField]:
        wanted = None if items is None else {item.id for item in items}
        for item in self._items:
            if wanted is not None and item.id not in wanted:
                continue
            name = field_name(item.id)
            yield ItemField(item, self[name], self._fields.get(name + "__na"))


def form_items(items: Iterable[Item]) -> tuple[Item, ...]:
    """The items a form asks (calculated items are the engine's, never typed)."""
    return tuple(item for item in items if item.type in ITEM_KINDS and item.calculate is None)


def build_form_class(items: Iterable[Item], *, lang: str = "zh", base: type[Form] = DefinitionForm,
                     extra: Mapping[str, Field] | None = None) -> type[DefinitionForm]:
    """A form class with one field per item (plus `extra` fields, e.g. notes)."""
    kept = form_items(items)
    attrs: dict[str, Any] = {"_items": kept, **(extra or {})}
    seen: set[str] = set()
    for item in kept:
        name = field_name(item.id)
        if name in seen:
            raise ValueError(f"two items map to the form field {name}")
        seen.add(name)
        attrs[name] = kind_of(item).build(item, lang)
        if item.not_applicable_allowed and not kind_of(item).choice:
            attrs[name + "__na"] = BooleanField(NA_LABEL.get(lang, NA_LABEL["zh"]))
    bases = (base,) if issubclass(base, DefinitionForm) else (DefinitionForm, base)
    return type("ItemsForm", bases, attrs)


def answers_from_form(form: DefinitionForm, items: Iterable[Item] | None = None) -> dict[str, Any]:
    """Answer values from the submitted form; an empty field gives None (clears the answer)."""
    answers: dict[str, Any] = {}
    for entry in form.item_fields(items):
        if entry.na_field is not None and entry.na_field.data:
            answers[entry.item.id] = NA
        else:
            answers[entry.item.id] = entry.kind.to_answer(entry.item, entry.field.data)
    return answers


def form_data_from_answers(items: Sequence[Item], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Field data for saved answers, to pre-fill a form."""
    data: dict[str, Any] = {}
    for item in form_items(items):
        if item.id not in answers or answers[item.id] is None:
            continue
        name, value, kind = field_name(item.id), answers[item.id], kind_of(item)
        if value == NA and item.not_applicable_allowed:
            if kind.choice:
                data[name] = NA
            else:
                data[name + "__na"] = True
        else:
            data[name] = kind.to_field(item, value)
    return data


def attach_errors(form: DefinitionForm, errors: Iterable[Mapping[str, Any]], *, lang: str = "zh") -> list[Mapping[str, Any]]:
    """Put each error next to its item's field; return the errors that belong to no field."""
    by_item = {entry.item.id: entry.field for entry in form.item_fields()}
    rest = []
    for error in errors:
        fld = by_item.get(str(error.get("item")))
        message = (error.get("message_en") or error.get("message")) if lang == "en" else error.get("message")
        if fld is None:
            rest.append(error)
            continue
        if not isinstance(fld.errors, list):
            fld.errors = list(fld.errors)
        if message not in fld.errors:
            fld.errors.append(message)
    return rest
