"""The refusals of the assessment operations, one family (status, code, message, per-item errors)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from assessment.models import (
    Elder,
)
from core.answers import MAX_ANSWER_TEXT  # noqa: E402,F401  (one limit for both domains)
from core.errors import DomainError, EditConflict
from core.i18n import N_
from core.workflow import Refusal


class AssessmentError(DomainError):
    """A refused action: `status` for the HTTP answer, `message` in Chinese, `errors` per item."""

    def __init__(self, message: Any, *, status: int = 422, code: str = "invalid",
                 errors: list[dict[str, Any]] | None = None) -> None:
        DomainError.__init__(self, message, status=status, code=code, errors=errors)


def refused(refusal: Refusal) -> AssessmentError:
    """A step the assessment workflow does not allow now (see assessment.workflow)."""
    return AssessmentError(refusal.message, status=refusal.status, code=refusal.code)


class ConflictError(AssessmentError, EditConflict):
    """The record changed since the caller read it (optimistic locking, core.db.bump_version)."""

    def __init__(self, current_version: int) -> None:
        AssessmentError.__init__(self, N_("这份评估刚被其他人修改过（版本已更新），您的修改没有覆盖对方的内容。"
                                          "您的答案已保留在本设备上，请核对后再保存。"),
                                 status=409, code="conflict")
        self.current_version = current_version
        self.answers: dict[str, Any] | None = None


class DuplicateElderError(AssessmentError):
    """The person is already registered (same ID number in a visible organisation)."""

    def __init__(self, existing: Elder) -> None:
        super().__init__(_l("该身份证号已登记：%(name)s（编号 %(id)s），请勿重复登记。", name=existing.name, id=existing.id),
                         status=409, code="duplicate", errors=[{"item": "id_number",
                                                                 "message": N_("该身份证号已登记")}])
        self.existing = existing


