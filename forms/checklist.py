"""The whole-definition form (an inspection checklist): every section's items on one page, a
section's score entered directly instead of item by item, and a note per item. Built from the
same registry and form builder as the assessment pages (`forms.definition`), so every item type
works here too and the pages read the same way.

A section entered directly is a `section_score` item whose id is the section's id (the engine
takes `answers[section.id]` as the section's score, and then no item answers of that section).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wtforms import Form
from wtforms.fields import TextAreaField

from forms.definition import (
    DefinitionForm,
    answers_from_form,
    build_form_class,
    field_name,
    form_data_from_answers,
    form_items,
)
from scoring import Definition, Item, Section

NOTE_MAX = 1000
DIRECT_TITLE = {"zh": "直接录入本分项得分（可选，录入后不再逐项打分）",
                "en": "Enter this section's score directly (optional; then its items are not scored)"}
NOTE_LABEL = {"zh": "备注：%s", "en": "Note: %s"}


def section_max(section: Section) -> float:
    if section.max is not None:
        return section.max
    return sum(item.max_score for item in section.items if item.is_scored)


def direct_item(section: Section) -> Item:
    """The section's score as an item the form can ask."""
    return Item(id=section.id, type="section_score", title=DIRECT_TITLE, max=section_max(section), step=0.5)


@dataclass(frozen=True)
class ChecklistSection:
    section: Section
    direct: Item
    items: tuple[Item, ...]

    @property
    def max(self) -> float:
        return section_max(self.section)


def checklist_sections(definition: Definition) -> list[ChecklistSection]:
    return [ChecklistSection(s, direct_item(s), form_items(s.items)) for s in definition.sections]


def note_name(item_id: str) -> str:
    return "n_" + field_name(item_id)[2:]


def build_checklist_class(definition: Definition, *, lang: str = "zh",
                          base: type[Form] = DefinitionForm) -> type[DefinitionForm]:
    """One form for the whole checklist: direct section scores, items, and their notes."""
    sections = checklist_sections(definition)
    items = [i for s in sections for i in (s.direct, *s.items)]
    notes = {note_name(i.id): TextAreaField(NOTE_LABEL.get(lang, NOTE_LABEL["zh"]) % i.title.get(lang),
                                            render_kw={"maxlength": str(NOTE_MAX)})
             for s in sections for i in s.items}
    return build_form_class(items, lang=lang, base=base, extra=notes)


def checklist_data(definition: Definition, answers: Mapping[str, Any], notes: Mapping[str, Any]) -> dict[str, Any]:
    """Field data for the saved answers and notes."""
    sections = checklist_sections(definition)
    data = form_data_from_answers([i for s in sections for i in (s.direct, *s.items)], answers)
    for s in sections:
        for item in s.items:
            if notes.get(item.id):
                data[note_name(item.id)] = str(notes[item.id])
    return data


def checklist_answers(form: DefinitionForm, definition: Definition) -> tuple[dict[str, Any], dict[str, str]]:
    """(answers, notes) from the posted checklist; the answers replace the stored set. A section
    entered directly takes no item answers."""
    answers: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for s in checklist_sections(definition):
        direct = answers_from_form(form, [s.direct]).get(s.direct.id)
        if direct is not None:
            answers[s.direct.id] = direct
        for item in s.items:
            note = (form[note_name(item.id)].data or "").strip()
            if note:
                notes[item.id] = note[:NOTE_MAX]
        if direct is not None:
            continue
        for item_id, value in answers_from_form(form, s.items).items():
            if value is not None and value != []:
                answers[item_id] = value
    return answers, notes
