"""Paged rating lists: facilities, inspections, corrective actions, grades and certificates,
filtered, sorted and paged in SQL (core.paging) and scoped like rating.queries (an operator
also sees the facilities it runs). Pages and the API share them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlmodel import Session

from accounts.models import User
from assessment.lists import _count, _day_start, choice_arg, date_arg, int_arg, org_scope
from core.paging import COUNT_CAP, Page, PageParams, Sort, in_ids, literal_contains, paginate
from core.timeutil import local_today, utcnow
from rating.models import (
    ACTION_STATUSES,
    FACILITY_KINDS,
    INSPECTION_STATUSES,
    SEVERITIES,
    Certificate,
    CorrectiveAction,
    Facility,
    FacilityState,
    Grade,
    Inspection,
)
from rating.operations.actions import DUE_SOON_DAYS
from rating.queries import is_operator_only, operator_facility_ids

ACTION_KINDS = ("open", "due_soon", "overdue", "closed", "all")
Result = tuple[Page, tuple[int, bool]]


def _scope(session: Session, user: User, args: Mapping[str, Any], model: Any) -> Any:
    """Rows of the visible organisations (or the `org` subtree), plus an operator's own facilities;
    an operator account without a staff role sees its own facilities' rows only."""
    orgs = org_scope(session, user, args.get("org"))
    facility_column = model.id if model is Facility else model.facility_id
    if is_operator_only(user):
        own = facility_column.in_(operator_facility_ids(session, user))
        return and_(own, in_ids(session, model.organisation_id, orgs)) if args.get("org") else own
    own_ids = operator_facility_ids(session, user) if not args.get("org") else []
    if own_ids:
        return or_(in_ids(session, model.organisation_id, orgs), facility_column.in_(own_ids))
    return in_ids(session, model.organisation_id, orgs)


def _facility_filter(stmt: Any, args: Mapping[str, Any], column: Any) -> Any:
    """`facility` (one facility's id) and `district` (the facility's district, exact; every
    statement using this joins Facility)."""
    facility = int_arg(args, "facility")
    if facility is not None:
        stmt = stmt.where(column == facility)
    district = str(args.get("district") or "").strip()
    if district:
        stmt = stmt.where(Facility.district == district)
    return stmt


def facilities_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                    count_cap: int | None = COUNT_CAP) -> Result:
    """Facilities by name with their current grade. Filters: q (name), kind, district, grade,
    ungraded (1: no current grade), expiring_to (a day: the current grade ends on or before it,
    and not before today), org."""
    stmt = (select(Facility, FacilityState).outerjoin(FacilityState, FacilityState.facility_id == Facility.id)  # type: ignore[arg-type]
            .where(_scope(session, user, args, Facility)))
    kind = choice_arg(args, "kind", list(FACILITY_KINDS))
    if kind:
        stmt = stmt.where(Facility.kind == kind)
    q = str(args.get("q") or "").strip()
    if q:
        stmt = stmt.where(literal_contains(Facility.name, q))
    district = str(args.get("district") or "").strip()
    if district:
        stmt = stmt.where(Facility.district == district)
    grade = int_arg(args, "grade")
    if grade is not None:
        stmt = stmt.where(FacilityState.grade_code == grade)
    if choice_arg(args, "ungraded", ("0", "1")) == "1":
        stmt = stmt.where(FacilityState.grade_code.is_(None))  # type: ignore[union-attr]
    expiring = date_arg(args, "expiring_to")
    if expiring is not None:
        stmt = stmt.where(FacilityState.grade_valid_until >= local_today(),  # type: ignore[operator]
                          FacilityState.grade_valid_until <= expiring)  # type: ignore[operator]
    page = paginate(session, stmt, [Sort(Facility.name), Sort(Facility.id)],
                    key=lambda row: (row[0].name, row[0].id), params=params)
    return page, _count(session, stmt, count_cap)


def inspections_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                     count_cap: int | None = COUNT_CAP) -> Result:
    """Newest first. Filters: status, facility, district, plan, scheme, inspector (who started it),
    org, from/to (started, inclusive days)."""
    stmt = (select(Inspection, Facility.name).join(Facility, Facility.id == Inspection.facility_id)  # type: ignore[arg-type]
            .where(_scope(session, user, args, Inspection)))
    status = choice_arg(args, "status", list(INSPECTION_STATUSES))
    if status:
        stmt = stmt.where(Inspection.status == status)
    if is_operator_only(user):  # the facility learns its results once approved, not the work in progress
        stmt = stmt.where(Inspection.status == "approved")
    stmt = _facility_filter(stmt, args, Inspection.facility_id)
    for name, column in (("plan", Inspection.plan_id), ("inspector", Inspection.created_by_id)):
        value = int_arg(args, name)
        if value is not None:
            stmt = stmt.where(column == value)
    scheme = str(args.get("scheme") or "").strip()
    if scheme:
        stmt = stmt.where(Inspection.scheme == scheme)
    start, end = date_arg(args, "from"), date_arg(args, "to")
    if start:
        stmt = stmt.where(Inspection.created_at >= _day_start(start))
    if end:
        stmt = stmt.where(Inspection.created_at < _day_start(end + timedelta(days=1)))
    page = paginate(session, stmt, [Sort(Inspection.id, desc=True)], key=lambda row: (row[0].id,), params=params)
    return page, _count(session, stmt, count_cap)


def action_condition(which: str, now: datetime) -> Any:
    """open (not closed), due_soon, overdue, closed or all, as SQL (see rating.operations.actions)."""
    if which == "open":
        return CorrectiveAction.status != "closed"
    if which == "due_soon":
        return and_(CorrectiveAction.status == "open", CorrectiveAction.due_at >= now,  # type: ignore[operator]
                    CorrectiveAction.due_at < now + timedelta(days=DUE_SOON_DAYS))  # type: ignore[operator]
    if which == "overdue":
        return and_(CorrectiveAction.status.in_(("open", "escalated")), CorrectiveAction.due_at < now)  # type: ignore[attr-defined, operator]
    if which == "closed":
        return CorrectiveAction.status == "closed"
    return true()


def actions_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams,
                 *, now: datetime | None = None, count_cap: int | None = COUNT_CAP) -> Result:
    """Earliest deadline first. Filters: which (open/due_soon/overdue/closed/all), status (stored
    status), facility, district, inspection, severity, org, due from/to, opened_from/opened_to
    (day created), closed_from/closed_to (day verified and closed); days are inclusive, in the
    organisation's time zone."""
    now = now or utcnow()
    which = choice_arg(args, "which", ACTION_KINDS) or "open"
    stmt = (select(CorrectiveAction, Facility.name).join(Facility, Facility.id == CorrectiveAction.facility_id)  # type: ignore[arg-type]
            .where(_scope(session, user, args, CorrectiveAction), action_condition(which, now)))
    stmt = _facility_filter(stmt, args, CorrectiveAction.facility_id)
    inspection = int_arg(args, "inspection")
    if inspection is not None:
        stmt = stmt.where(CorrectiveAction.inspection_id == inspection)
    severity = choice_arg(args, "severity", list(SEVERITIES))
    if severity:
        stmt = stmt.where(CorrectiveAction.severity == severity)
    status = choice_arg(args, "status", list(ACTION_STATUSES))
    if status:
        stmt = stmt.where(CorrectiveAction.status == status)
    start, end = date_arg(args, "from"), date_arg(args, "to")
    if start:
        stmt = stmt.where(CorrectiveAction.due_at >= _day_start(start))  # type: ignore[operator]
    if end:
        stmt = stmt.where(CorrectiveAction.due_at < _day_start(end + timedelta(days=1)))  # type: ignore[operator]
    for prefix, column in (("opened", CorrectiveAction.created_at), ("closed", CorrectiveAction.verified_at)):
        start, end = date_arg(args, f"{prefix}_from"), date_arg(args, f"{prefix}_to")
        if start:
            stmt = stmt.where(column >= _day_start(start))  # type: ignore[operator]
        if end:
            stmt = stmt.where(column < _day_start(end + timedelta(days=1)))  # type: ignore[operator]
    page = paginate(session, stmt, [Sort(CorrectiveAction.due_at), Sort(CorrectiveAction.id)],
                    key=lambda row: (row[0].due_at, row[0].id), params=params)
    return page, _count(session, stmt, count_cap)


def grades_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                count_cap: int | None = COUNT_CAP) -> Result:
    """Newest first. Filters: facility, scheme, plan, current (1: not superseded), org."""
    stmt = (select(Grade, Facility.name).join(Facility, Facility.id == Grade.facility_id)  # type: ignore[arg-type]
            .where(_scope(session, user, args, Grade)))
    stmt = _facility_filter(stmt, args, Grade.facility_id)
    scheme = str(args.get("scheme") or "").strip()
    if scheme:
        stmt = stmt.where(Grade.scheme == scheme)
    plan = int_arg(args, "plan")
    if plan is not None:
        stmt = stmt.where(Grade.plan_id == plan)
    if choice_arg(args, "current", ("0", "1")) == "1":
        stmt = stmt.where(Grade.superseded_by_id.is_(None))  # type: ignore[union-attr]
    page = paginate(session, stmt, [Sort(Grade.id, desc=True)], key=lambda row: (row[0].id,), params=params)
    return page, _count(session, stmt, count_cap)


def certificates_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                      count_cap: int | None = COUNT_CAP) -> Result:
    """Newest first, with grade and facility. Filters: facility, district, plan, scheme, revoked
    (0/1), org, from/to (issued on, inclusive)."""
    stmt = (select(Certificate, Grade, Facility).join(Grade, Grade.id == Certificate.grade_id)  # type: ignore[arg-type]
            .join(Facility, Facility.id == Certificate.facility_id)  # type: ignore[arg-type]
            .where(_scope(session, user, args, Certificate)))
    stmt = _facility_filter(stmt, args, Certificate.facility_id)
    plan = int_arg(args, "plan")
    if plan is not None:
        stmt = stmt.where(Grade.plan_id == plan)
    revoked = choice_arg(args, "revoked", ("0", "1"))
    if revoked is not None:
        column = Certificate.revoked_at
        stmt = stmt.where(column.is_not(None) if revoked == "1" else column.is_(None))  # type: ignore[union-attr]
    scheme = str(args.get("scheme") or "").strip()
    if scheme:
        stmt = stmt.where(Grade.scheme == scheme)
    start, end = date_arg(args, "from"), date_arg(args, "to")
    if start:
        stmt = stmt.where(Certificate.issued_on >= start)  # type: ignore[operator]
    if end:
        stmt = stmt.where(Certificate.issued_on <= end)  # type: ignore[operator]
    page = paginate(session, stmt, [Sort(Certificate.id, desc=True)], key=lambda row: (row[0].id,), params=params)
    return page, _count(session, stmt, count_cap)
