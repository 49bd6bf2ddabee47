"""The forms side of the item-type registry: for each item type of the definition schema, how it
becomes a WTForms field, how a field's data becomes an answer and back (the value codec), how an
answer reads to a person, and what the page's script needs to know about it.

Adding an item type is one `ItemKind` here plus one entry on the scoring side (check, score,
maximum). Both domains (assessment pages, inspection checklists) build their forms from this
table, so a type works everywhere or nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wtforms.fields import Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from forms.common import choices
from scoring import NA, Item

NA_LABEL = {"zh": "不适用", "en": "Not applicable"}
BOOLEAN_LABELS = {"zh": ("是", "否"), "en": ("Yes", "No")}
NONE_CHOSEN = {"zh": "无", "en": "None"}
FILES = {"zh": "%d 个文件", "en": "%d file(s)"}


def _pick(table: dict[str, Any], lang: str) -> Any:
    return table.get(lang, table["zh"])


def label(item: Item, lang: str) -> str:
    """The question as a field label: its title in the page's language (the id is shown apart)."""
    return item.title.get(lang)


def value_key(value: Any) -> str:
    """The HTML form value of an option value: JSON-like, so 1, "1" and true stay distinct."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def option_text(option: Any, lang: str) -> str:
    return option.label.get(lang) if option.label is not None else str(option.value)


def _option_label(item: Item, option: Any, lang: str) -> str:
    text, points = option_text(option, lang), option.points
    if item.is_scored and points is not None:
        return f"{text}（{points:g} 分）" if lang == "zh" else f"{text} ({points:g} points)"
    return text


def _option_value(item: Item, key: str) -> Any:
    for option in item.options:
        if value_key(option.value) == key:
            return option.value
    if item.type == "boolean" and not item.options:
        return {"true": True, "false": False}.get(key, key)
    return key


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (large targets on a tablet) instead of a multi-select box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- field builders -------------------------------------------------------------------------

def _single_choice(item: Item, lang: str) -> Field:
    pairs = [(value_key(o.value), _option_label(item, o, lang)) for o in item.options]
    if item.type == "boolean" and not item.options:
        yes, no = _pick(BOOLEAN_LABELS, lang)
        pairs = [("true", yes), ("false", no)]
    if item.not_applicable_allowed:
        pairs.append((NA, _pick(NA_LABEL, lang)))
    return RadioField(label(item, lang), choices=choices(pairs), validate_choice=False)


def _multiple_choice(item: Item, lang: str) -> Field:
    pairs = [(value_key(o.value), _option_label(item, o, lang)) for o in item.options]
    return MultiCheckboxField(label(item, lang), choices=choices(pairs), validate_choice=False)


def number_attributes(item: Item) -> dict[str, str]:
    """The HTML attributes of a number input: min/max/step from the definition (as the engine
    checks them, so the keyboard and the browser agree with the server)."""
    integral = item.type in ("integer", "count", "deduction")
    attrs = {"inputmode": "numeric" if integral else "decimal"}
    if item.min is not None:
        attrs["min"] = f"{item.min:g}"
    elif item.type in ("count", "deduction", "section_score"):
        attrs["min"] = "0"
    if item.max is not None:
        attrs["max"] = f"{item.max:g}"
    attrs["step"] = f"{item.step:g}" if item.step else ("1" if integral else "any")
    return attrs


def _number(item: Item, lang: str) -> Field:
    # A text-backed field: WTForms' IntegerField would drop what does not parse; we keep it.
    return StringField(label(item, lang), widget=NumberInput(), render_kw=number_attributes(item))


def _date(item: Item, lang: str) -> Field:
    return StringField(label(item, lang), render_kw={"type": "date"})


def _text(item: Item, lang: str) -> Field:
    attrs = {"maxlength": str(item.max_length)} if item.max_length else {}
    return TextAreaField(label(item, lang), render_kw=attrs)


def _signature(item: Item, lang: str) -> Field:
    return StringField(label(item, lang), render_kw={"autocomplete": "name"})


def _files(item: Item, lang: str) -> Field:
    # References to stored files (photos, documents), one per line; uploads add to them.
    return TextAreaField(label(item, lang), render_kw={"rows": "2"})


# --- value codecs ---------------------------------------------------------------------------

def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def _choice_in(item: Item, raw: Any) -> Any:
    if _blank(raw):
        return None
    return NA if raw == NA and item.not_applicable_allowed else _option_value(item, raw)


def _choice_out(item: Item, value: Any) -> Any:
    return value_key(value)


def _multi_in(item: Item, raw: Any) -> Any:
    return [_option_value(item, k) for k in (raw or [])]


def _multi_out(item: Item, value: Any) -> Any:
    return [value_key(v) for v in value] if isinstance(value, list) else []


def _number_in(item: Item, raw: Any) -> Any:
    if _blank(raw):
        return None
    text = str(raw).strip()
    try:
        number = float(text)
    except ValueError:
        return text  # kept as typed; the engine names the problem
    if number.is_integer() and (item.type in ("integer", "count", "deduction") or "." not in text):
        return int(number)
    return number


def _scalar_out(item: Item, value: Any) -> Any:
    return value_key(value)


def _line_in(item: Item, raw: Any) -> Any:
    return None if _blank(raw) else str(raw).strip()


def _text_in(item: Item, raw: Any) -> Any:
    return None if _blank(raw) else str(raw)


def _files_in(item: Item, raw: Any) -> Any:
    refs = [line.strip() for line in str(raw or "").splitlines() if line.strip()]
    return refs or None


def _files_out(item: Item, value: Any) -> Any:
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


# --- display text ---------------------------------------------------------------------------

def _choice_text(item: Item, value: Any, lang: str) -> str:
    if item.type == "boolean" and not item.options and isinstance(value, bool):
        yes, no = _pick(BOOLEAN_LABELS, lang)
        return yes if value else no
    for option in item.options:
        if option.value == value and type(option.value) is type(value):
            return option_text(option, lang)
    for option in item.options:
        if option.value == value:
            return option_text(option, lang)
    return str(value)


def _multi_text(item: Item, value: Any, lang: str) -> str:
    if not isinstance(value, list):
        return _choice_text(item, value, lang)
    sep = "、" if lang == "zh" else ", "
    return sep.join(_choice_text(item, v, lang) for v in value) or _pick(NONE_CHOSEN, lang)


def _plain_text(item: Item, value: Any, lang: str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _files_text(item: Item, value: Any, lang: str) -> str:
    count = len(value) if isinstance(value, list) else 1
    return _pick(FILES, lang) % count


@dataclass(frozen=True)
class ItemKind:
    """What the forms need to know about one item type."""

    build: Callable[[Item, str], Field]
    to_answer: Callable[[Item, Any], Any]  # field data → answer value (None: unanswered)
    to_field: Callable[[Item, Any], Any]  # answer value → field data
    text: Callable[[Item, Any, str], str]  # answer value → what a person reads
    widget: str  # how the item partial lays it out: choice, multi, input, textarea, files
    client: str  # how the page's script reads the control: choice, multi, number, text

    @property
    def choice(self) -> bool:
        return self.widget == "choice"


_CHOICE = ItemKind(_single_choice, _choice_in, _choice_out, _choice_text, "choice", "choice")
_NUMBER = ItemKind(_number, _number_in, _scalar_out, _plain_text, "input", "number")
_FILES = ItemKind(_files, _files_in, _files_out, _files_text, "files", "files")

ITEM_KINDS: dict[str, ItemKind] = {
    "single_choice": _CHOICE,
    "boolean": _CHOICE,
    "multiple_choice": ItemKind(_multiple_choice, _multi_in, _multi_out, _multi_text, "multi", "multi"),
    "integer": _NUMBER,
    "count": _NUMBER,
    "deduction": _NUMBER,
    "decimal": _NUMBER,
    "section_score": _NUMBER,
    "date": ItemKind(_date, _line_in, _scalar_out, _plain_text, "input", "text"),
    "text": ItemKind(_text, _text_in, _scalar_out, _plain_text, "textarea", "text"),
    "signature": ItemKind(_signature, _line_in, _scalar_out, _plain_text, "input", "text"),
    "photo": _FILES,
    "evidence": _FILES,
}
"""Item type → its forms side. A new item type registers here (and in scoring)."""


def kind_of(item: Item) -> ItemKind:
    return ITEM_KINDS[item.type]


def answer_text(item: Item, value: Any, lang: str = "zh") -> str:
    """An answer as people read it: option labels, yes/no, not applicable; "" when unanswered."""
    if value is None or value == "" or value == []:
        return ""
    if value == NA:
        return _pick(NA_LABEL, lang)
    return kind_of(item).text(item, value, lang)


def client_items(items: Sequence[Item], field_name: Callable[[str], str]) -> dict[str, Any]:
    """What the page's script needs per item: its field name, how to read it, option values."""
    return {item.id: {"field": field_name(item.id), "type": item.type, "read": kind_of(item).client,
                      "options": {value_key(o.value): o.value for o in item.options}}
            for item in items if item.type in ITEM_KINDS}
