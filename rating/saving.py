"""The one save of an inspection's checklist, for the page, its autosave and the API: the
operation (which checks the version) run through the save contract of `forms.save`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from forms.save import SaveResult, same_answers, save_answers
from rating import operations as ops
from rating.models import Inspection
from rating.operations.facilities import merge_facts
from scoring import validate_answers


def conflict_message() -> str:
    return _("这份检查表刚被其他人修改过（版本已更新），您的修改没有覆盖对方的内容。"
             "请核对对方保存的答案，再选择保留哪一份。")


def save(*, session: Any, actor: Any, inspection: Inspection, answers: Any, facts: Any = None,
         notes: Any = None, version: Any) -> SaveResult:
    """Save the whole checklist; raises ops.RatingError for anything but a conflict."""
    def unchanged_extra() -> bool:
        return ((notes is None or same_answers(inspection.notes or {}, notes, whole=True))
                and (facts is None or same_answers(inspection.facts or {}, facts, whole=True)))

    definition = ops.definition_of(inspection)
    return save_answers(
        session=session, record=inspection, definition=definition, submitted=answers, whole=True,
        write=lambda: ops.save_answers(session=session, actor=actor, inspection=inspection, answers=answers,
                                       facts=facts, notes=notes, version=version),
        conflicts=(ops.VersionConflict,), conflict_message=conflict_message(),
        check=lambda: validate_answers(definition, inspection.answers,
                                       merge_facts(inspection.auto_facts, inspection.facts), partial=True),
        same_extra=unchanged_extra,
        # The facts (vetoes, first application) and notes are asked like the answers: the client
        # compares them with what it started from and lets the person choose (offline-form.js).
        stored_extra=lambda: {"facts": dict(inspection.facts or {}), "notes": dict(inspection.notes or {})})
