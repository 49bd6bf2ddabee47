"""The one save of an assessment's answers, for the form page, its autosave and the API: the
operation (which checks the version) run through the save contract of `forms.save`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from assessment import operations as ops
from assessment.models import Assessment
from forms.save import SaveResult, save_answers
from scoring import Definition, validate_answers


def conflict_message() -> str:
    return _("这份评估刚被其他人修改过（版本已更新），您的修改没有覆盖对方的内容。"
             "请核对对方保存的答案，再选择保留哪一份。")


def save(*, session: Any, actor: Any, assessment: Assessment, definition: Definition,
         answers: dict[str, Any], version: int, section: str | None) -> SaveResult:
    """Save (merge) answers into a draft; raises ops.AssessmentError for anything but a conflict."""
    return save_answers(
        session=session, record=assessment, definition=definition, submitted=answers, whole=False,
        write=lambda: ops.save_answers(session=session, actor=actor, assessment=assessment,
                                       definition=definition, answers=answers, version=version,
                                       section=section),
        conflicts=(ops.ConflictError,), conflict_message=conflict_message(),
        check=lambda: validate_answers(definition, assessment.answers, partial=True))
