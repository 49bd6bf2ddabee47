"""The rating counters of the inbox (core.inbox): the inspector's planned and open inspections;
the administrator's approvals, grades expiring and overdue corrective actions. Each count is the
capped count of exactly the list its link opens (rating.lists), so the two always agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from accounts.models import User
from core.inbox import InboxItem, register_inbox
from core.paging import PageParams
from core.timeutil import local_today
from rating import lists

EXPIRING_DAYS = 90  # as the administrator's dashboard: grades ending within 90 days


def _expiring_args(_user: User) -> dict[str, Any]:
    return {"expiring_to": (local_today() + timedelta(days=EXPIRING_DAYS)).isoformat()}


def _count(finder: Any, args_of: Any) -> Any:
    def count(session: Session, user: User) -> tuple[int, bool]:
        return finder(session, user, args_of(user), PageParams(limit=1))[1]  # type: ignore[no-any-return]
    return count


def _inspection_items(action: str, status: str) -> Any:
    def items(session: Session, user: User, limit: int) -> list[InboxItem]:
        page, _count = lists.inspections_page(session, user, {"status": status}, PageParams(limit=limit))
        return [InboxItem("inspection", i.id or 0, name, action, i.rectification_due_at, "rating.inspection",
                          (("inspection_id", i.id),)) for i, name in page.items]
    return items


def _overdue_items(session: Session, user: User, limit: int) -> list[InboxItem]:
    page, _count = lists.actions_page(session, user, {"which": "overdue"}, PageParams(limit=limit))
    return [InboxItem("action", a.id or 0, f"{name} · {a.description[:60]}", "follow_up", a.due_at,
                      "rating.action", (("action_id", a.id),)) for a, name in page.items]


def _expiring_items(session: Session, user: User, limit: int) -> list[InboxItem]:
    page, _count = lists.facilities_page(session, user, _expiring_args(user), PageParams(limit=limit))
    return [InboxItem("facility", f.id or 0, f.name, "reinspect", state.grade_valid_until if state else None,
                      "rating.facility", (("facility_id", f.id),)) for f, state in page.items]


def _status(status: str) -> Any:
    return lambda _user: {"status": status}


register_inbox("rating.planned", _l("已计划的检查"), roles=("inspector",), order=30,
               count=_count(lists.inspections_page, _status("planned")),
               link=lambda u: ("rating.inspections", {"status": "planned"}),
               items=_inspection_items("inspect", "planned"))
register_inbox("rating.in_progress", _l("进行中的检查"), roles=("inspector",), order=31,
               count=_count(lists.inspections_page, _status("in_progress")),
               link=lambda u: ("rating.inspections", {"status": "in_progress"}),
               items=_inspection_items("continue", "in_progress"))
register_inbox("rating.approvals", _l("待审批的检查"), roles=("admin",), order=40,
               count=_count(lists.inspections_page, _status("submitted")),
               link=lambda u: ("rating.inspections", {"status": "submitted"}),
               items=_inspection_items("approve", "submitted"))
register_inbox("rating.grades_expiring", _l("90 天内到期的等级"), roles=("admin",), order=41,
               count=_count(lists.facilities_page, _expiring_args),
               link=lambda u: ("rating.facilities", _expiring_args(u)), items=_expiring_items)
register_inbox("rating.actions_overdue", _l("逾期未整改"), roles=("admin",), order=42,
               count=_count(lists.actions_page, lambda _u: {"which": "overdue"}),
               link=lambda u: ("rating.actions", {"which": "overdue"}), items=_overdue_items)
