"""The assessment counters of the inbox (core.inbox): the assessor's drafts, assessments waiting
for their signature and reassessments due; the reviewer's queue. Each count is the capped count
of exactly the list its link opens (assessment.lists), so the two always agree."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from accounts.models import User
from assessment import lists
from core.inbox import InboxItem, register_inbox
from core.paging import PageParams


def _assessments(session: Session, user: User, args: dict[str, Any]) -> Any:
    """The assessment list's own statement for `args` (one row asked: the count is separate)."""
    return lists.assessments_page(session, user, args, PageParams(limit=1))[1]


def _drafts_args(user: User) -> dict[str, Any]:
    return {"status": "draft", "assessor": user.id}


def _sign_args(user: User) -> dict[str, Any]:
    return {"status": "submitted", "unsigned_by": user.id}


REVIEW_ARGS = {"status": "signed"}


def _assessment_items(action: str, args_of: Any) -> Any:
    def items(session: Session, user: User, limit: int) -> list[InboxItem]:
        page, _count = lists.assessments_page(session, user, args_of(user), PageParams(limit=limit))
        return [InboxItem("assessment", a.id or 0, f"{elder.name if elder else ''} · {a.instrument_id}", action,
                          None, "assessment.detail" if action != "continue" else "assessment.fill",
                          (("assessment_id", a.id),)) for a, elder in page.items]
    return items


def _due_count(kind: str) -> Any:
    def count(session: Session, user: User) -> tuple[int, bool]:
        return lists.due_counts(session, user)[kind]
    return count


def _due_items(session: Session, user: User, limit: int) -> list[InboxItem]:
    page = lists.due_page(session, user, {"kind": "all"}, PageParams(limit=limit))
    return [InboxItem("elder", row.elder.id or 0, row.elder.name, "reassess", row.due_on, "assessment.elder",
                      (("elder_id", row.elder.id),)) for row in page.items]


def _count_of(args_of: Any) -> Any:
    def count(session: Session, user: User) -> tuple[int, bool]:
        return _assessments(session, user, args_of(user))  # type: ignore[no-any-return]
    return count


register_inbox("assessment.drafts", _l("我的评估草稿"), roles=("assessor",), order=10,
               count=_count_of(_drafts_args), link=lambda u: ("assessment.index", _drafts_args(u)),
               items=_assessment_items("continue", _drafts_args))
register_inbox("assessment.to_sign", _l("等待我签名的评估"), roles=("assessor",), order=11,
               count=_count_of(_sign_args), link=lambda u: ("assessment.index", _sign_args(u)),
               items=_assessment_items("sign", _sign_args))
register_inbox("assessment.due_overdue", _l("已逾期的复评"), roles=("assessor",), order=12,
               count=_due_count("overdue"), link=lambda u: ("assessment.due", {"kind": "overdue"}),
               items=_due_items)
register_inbox("assessment.due_soon", _l("即将到期的复评"), roles=("assessor",), order=13,
               count=_due_count("soon"), link=lambda u: ("assessment.due", {"kind": "soon"}))
register_inbox("assessment.review", _l("待审核的评估"), roles=("reviewer",), order=20,
               count=_count_of(lambda u: REVIEW_ARGS), link=lambda u: ("assessment.index", dict(REVIEW_ARGS)),
               items=_assessment_items("review", lambda u: REVIEW_ARGS))

