"""The refusals of the assessment operations, one family (status, code, message, per-item errors)."""

from __future__ import annotations

from typing import Any

from assessment.models import (
    Elder,
)
from core.answers import MAX_ANSWER_TEXT  # noqa: E402,F401  (one limit for both domains)


class AssessmentError(Exception):
    """A refused action: `status` for the HTTP answer, `message` in Chinese, `errors` per item."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid",
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.code, self.errors = message, status, code, errors or []


class ConflictError(AssessmentError):
    """The record changed since the caller read it (optimistic locking)."""

    def __init__(self, current_version: int) -> None:
        super().__init__("这份评估刚被其他人修改过（版本已更新），您的修改没有覆盖对方的内容。"
                         "您的答案已保留在本设备上，请核对后再保存。",
                         status=409, code="conflict")
        self.current_version = current_version


class DuplicateElderError(AssessmentError):
    """The person is already registered (same ID number in a visible organisation)."""

    def __init__(self, existing: Elder) -> None:
        super().__init__(f"该身份证号已登记：{existing.name}（编号 {existing.id}），请勿重复登记。",
                         status=409, code="duplicate", errors=[{"item": "id_number",
                                                                 "message": "该身份证号已登记"}])
        self.existing = existing


