"""WTForms built from definition items, through a table of item type → field builder.

Generic on purpose: an assessment page builds a form for one section's items, an inspection
checklist for its lines. The form only converts between HTML form data and answer values; the
definition's own checks (ranges, constraints, required, skip logic) run in `scoring`, so the
form, the API and the CLI agree. What the user typed is kept, even when it does not parse:
`answers_from_form` returns the raw text so a draft never loses it, and `attach_errors` puts the
engine's messages next to the item.

    ItemForm = build_form_class(section.items)
    form = ItemForm(formdata=request.form or None, data=form_data_from_answers(section.items, saved))
    answers = answers_from_form(form)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wtforms import Form
from wtforms.fields import (
    BooleanField,
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from forms.common import choices
from scoring import NA, Item

NA_LABEL = {"zh": "不适用", "en": "Not applicable"}
BOOLEAN_LABELS = {"zh": ("是", "否"), "en": ("Yes", "No")}

FieldBuilder = Callable[[Item, str], Field]


def _label(item: Item, lang: str) -> str:
    return f"{item.id} {item.title.get(lang)}"


def _option_label(item: Item, option: Any, lang: str) -> str:
    text = option.label.get(lang) if option.label is not None else str(option.value)
    points = option.points
    if item.is_scored and points is not None:
        return f"{text}（{points:g} 分）" if lang == "zh" else f"{text} ({points:g} points)"
    return text


def _value_key(value: Any) -> str:
    """The HTML form value of an option value: JSON-like, so 1, "1" and true stay distinct."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (large targets on a tablet) instead of a multi-select box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _single_choice(item: Item, lang: str) -> Field:
    pairs = [(_value_key(o.value), _option_label(item, o, lang)) for o in item.options]
    if item.type == "boolean" and not item.options:
        yes, no = BOOLEAN_LABELS.get(lang, BOOLEAN_LABELS["zh"])
        pairs = [("true", yes), ("false", no)]
    if item.not_applicable_allowed:
        pairs.append((NA, NA_LABEL.get(lang, NA_LABEL["zh"])))
    return RadioField(_label(item, lang), choices=choices(pairs), validate_choice=False)


def _multiple_choice(item: Item, lang: str) -> Field:
    pairs = [(_value_key(o.value), _option_label(item, o, lang)) for o in item.options]
    return MultiCheckboxField(_label(item, lang), choices=choices(pairs), validate_choice=False)


def _number(item: Item, lang: str) -> Field:
    attrs: dict[str, Any] = {"inputmode": "numeric" if item.type in ("integer", "count", "deduction")
                             else "decimal"}
    if item.min is not None:
        attrs["min"] = f"{item.min:g}"
    elif item.type in ("count", "deduction", "section_score"):
        attrs["min"] = "0"
    if item.max is not None:
        attrs["max"] = f"{item.max:g}"
    attrs["step"] = f"{item.step:g}" if item.step else ("1" if attrs["inputmode"] == "numeric" else "any")
    # A text-backed field: WTForms' IntegerField would drop what does not parse; we keep it.
    return StringField(_label(item, lang), widget=NumberInput(), render_kw=attrs)


def _date(item: Item, lang: str) -> Field:
    return StringField(_label(item, lang), render_kw={"type": "date"})


def _text(item: Item, lang: str) -> Field:
    attrs = {"maxlength": str(item.max_length)} if item.max_length else {}
    return TextAreaField(_label(item, lang), render_kw=attrs)


def _line(item: Item, lang: str) -> Field:
    return StringField(_label(item, lang))


FIELD_BUILDERS: dict[str, FieldBuilder] = {
    "single_choice": _single_choice,
    "boolean": _single_choice,
    "multiple_choice": _multiple_choice,
    "integer": _number,
    "count": _number,
    "deduction": _number,
    "decimal": _number,
    "section_score": _number,
    "date": _date,
    "text": _text,
    "signature": _line,
    "photo": _line,
    "evidence": _line,
}
"""Item type → field builder. A new item type registers its builder here."""

_NUMERIC = {"integer", "count", "deduction", "decimal", "section_score"}
_CHOICE = {"single_choice", "boolean"}


@dataclass(frozen=True)
class ItemField:
    """One item with its field (and, for typed inputs that allow N/A, its N/A checkbox)."""

    item: Item
    field: Any
    na_field: Any | None


def field_name(item_id: str) -> str:
    """A form field name for an item id (ids such as B.1.1 hold dots)."""
    return "q_" + re.sub(r"[^0-9A-Za-z]", "_", item_id)


class DefinitionForm(Form):
    """Base of built forms; `item_fields()` yields the items in order with their fields."""

    _items: tuple[Item, ...] = ()

    def item_fields(self) -> Iterator[ItemField]:
        for item in self._items:
            name = field_name(item.id)
            yield ItemField(item, self[name], self._fields.get(name + "__na"))


def build_form_class(items: Iterable[Item], *, lang: str = "zh",
                     base: type[Form] = DefinitionForm) -> type[DefinitionForm]:
    """A form class with one field per item (items without a builder are left out)."""
    kept = tuple(item for item in items if item.type in FIELD_BUILDERS and item.calculate is None)
    attrs: dict[str, Any] = {"_items": kept}
    seen: set[str] = set()
    for item in kept:
        name = field_name(item.id)
        if name in seen:
            raise ValueError(f"two items map to the form field {name}")
        seen.add(name)
        attrs[name] = FIELD_BUILDERS[item.type](item, lang)
        if item.not_applicable_allowed and item.type not in _CHOICE:
            attrs[name + "__na"] = BooleanField(NA_LABEL.get(lang, NA_LABEL["zh"]))
    bases = (base,) if issubclass(base, DefinitionForm) else (DefinitionForm, base)
    return type("ItemsForm", bases, attrs)


def _parse_number(text: str, integral: bool) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text  # kept as typed; the engine reports it
    if integral and number.is_integer():
        return int(number)
    return int(number) if number.is_integer() and "." not in text else number


def _option_value(item: Item, key: str) -> Any:
    for option in item.options:
        if _value_key(option.value) == key:
            return option.value
    if item.type == "boolean" and not item.options:
        return {"true": True, "false": False}.get(key, key)
    return key


def answers_from_form(form: DefinitionForm) -> dict[str, Any]:
    """Answer values from the submitted form; an empty field gives None (clears the answer)."""
    answers: dict[str, Any] = {}
    for entry in form.item_fields():
        item, fld = entry.item, entry.field
        if entry.na_field is not None and entry.na_field.data:
            answers[item.id] = NA
            continue
        if item.type == "multiple_choice":
            answers[item.id] = [_option_value(item, k) for k in (fld.data or [])]
            continue
        raw = fld.data
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            answers[item.id] = None
        elif item.type in _CHOICE:
            answers[item.id] = NA if raw == NA and item.not_applicable_allowed else _option_value(item, raw)
        elif item.type in _NUMERIC:
            answers[item.id] = _parse_number(raw.strip(), item.type in ("integer", "count", "deduction"))
        else:
            answers[item.id] = raw if item.type == "text" else raw.strip()
    return answers


def form_data_from_answers(items: Sequence[Item], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Field data for saved answers, to pre-fill a form."""
    data: dict[str, Any] = {}
    for item in items:
        if item.type not in FIELD_BUILDERS or item.id not in answers:
            continue
        name, value = field_name(item.id), answers[item.id]
        if value == NA and item.not_applicable_allowed:
            if item.type in _CHOICE:
                data[name] = NA
            else:
                data[name + "__na"] = True
        elif item.type == "multiple_choice":
            data[name] = [_value_key(v) for v in value] if isinstance(value, list) else []
        elif item.type in _CHOICE:
            data[name] = _value_key(value)
        elif value is not None:
            data[name] = _value_key(value) if not isinstance(value, float) else f"{value:g}"
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
