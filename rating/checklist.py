"""The on-site checklist: the scheme's sections and items as rows a template renders, and the
posted form turned back into answers, facts and notes (one parser for the page and autosave).

Form field names: ``a:<item>`` an item's answer, ``s:<section>`` a section score entered
directly, ``n:<item>`` a note, ``veto`` the veto facts asked explicitly, ``first_application``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from scoring import NA, Definition, Item

INPUT_KINDS = {
    "single_choice": "choice",
    "boolean": "choice",
    "deduction": "number",
    "integer": "number",
    "decimal": "number",
    "count": "number",
    "section_score": "number",
    "text": "text",
    "date": "date",
}


@dataclass
class Row:
    """One checklist line as the template shows it."""

    item: Item
    kind: str
    value: Any
    note: str
    options: list[tuple[str, str, Any]] = field(default_factory=list)  # (value, label, score)
    photos: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"a:{self.item.id}"


@dataclass
class SectionView:
    id: str
    title: str
    max: float | None
    direct: Any
    rows: list[Row]


def _options(item: Item) -> list[tuple[str, str, Any]]:
    if item.type == "boolean" and not item.options:
        return [("true", "是", None), ("false", "否", None)]
    return [(str(o.value).lower() if isinstance(o.value, bool) else str(o.value),
             o.label.zh if o.label else str(o.value), o.points) for o in item.options]


def build_sections(definition: Definition, answers: dict[str, Any], notes: dict[str, Any],
                   photos: dict[str, list[Any]] | None = None) -> list[SectionView]:
    """The checklist rows with the saved answers filled in."""
    photos = photos or {}
    out = []
    for section in definition.sections:
        rows = []
        for item in section.items:
            kind = INPUT_KINDS.get(item.type)
            if kind is None:
                continue
            value = answers.get(item.id)
            shown = str(value).lower() if isinstance(value, bool) else ("" if value is None else str(value))
            rows.append(Row(item=item, kind=kind, value=shown, note=str(notes.get(item.id, "")),
                            options=_options(item) if kind == "choice" else [],
                            photos=photos.get(item.id, [])))
        top = section.max if section.max is not None else sum(i.max_score for i in section.items if i.is_scored)
        out.append(SectionView(id=section.id, title=section.title.zh, max=top,
                               direct=answers.get(section.id, ""), rows=rows))
    return out


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text  # kept as typed; the engine names the problem
    return int(value) if value.is_integer() else value


def parse_form(definition: Definition, form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(answers, facts, notes) from a posted checklist."""
    answers: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for section in definition.sections:
        direct = (form.get(f"s:{section.id}") or "").strip()
        if direct:
            answers[section.id] = _number(direct)
        for item in section.items:
            note = (form.get(f"n:{item.id}") or "").strip()
            if note:
                notes[item.id] = note
            if direct:
                continue  # a section entered directly takes no item answers
            raw = (form.get(f"a:{item.id}") or "").strip()
            if not raw:
                continue
            answers[item.id] = _coerce(item, raw)
    facts: dict[str, Any] = {"veto": [c for c in form.getlist("veto") if c in definition.veto_codes]}
    if form.get("first_application"):
        facts["first_application"] = True
    return answers, facts, notes


def _coerce(item: Item, raw: str) -> Any:
    if raw == NA:
        return NA
    if item.type in ("single_choice", "boolean"):
        for option in item.options:
            shown = str(option.value).lower() if isinstance(option.value, bool) else str(option.value)
            if shown == raw:
                return option.value
        if item.type == "boolean":
            return raw == "true"
        return raw
    if INPUT_KINDS.get(item.type) == "number":
        return _number(raw)
    return raw
