"""Reads for rating, always scoped to what the user may see. Another organisation's object is
a 404. Operator accounts see the facilities they run (and those facilities' actions)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from flask import abort
from sqlmodel import Session, select

from accounts.models import User
from accounts.queries import scoped, visible_org_ids
from core.db import valid_id
from core.timeutil import utcnow
from rating.models import Certificate, CorrectiveAction, Facility, Grade, Inspection, InspectionPlan
from rating.operations.actions import aware, is_due_soon, is_overdue

T = TypeVar("T")


def _operator_facility_ids(session: Session, user: User) -> list[int]:
    if not user.has_role("operator"):
        return []
    orgs = visible_org_ids(session, user)
    rows = session.exec(select(Facility.id).where(Facility.operator_organisation_id.in_(orgs)))  # type: ignore[union-attr]
    return [r for r in rows if r is not None]


def get_or_404(session: Session, model: type[T], object_id: Any, user: User) -> T:
    """One row the user may see; an operator may also see its own facility's records."""
    key = valid_id(object_id)
    if key is None:
        abort(404)
    obj = session.get(model, key)
    if obj is None:
        abort(404)
    if getattr(obj, "organisation_id", None) in visible_org_ids(session, user):
        return obj
    facility_id = obj.id if isinstance(obj, Facility) else getattr(obj, "facility_id", None)
    if facility_id is not None and facility_id in _operator_facility_ids(session, user):
        return obj
    abort(404)


def facilities(session: Session, user: User, *, kind: str | None = None) -> list[Facility]:
    stmt = scoped(select(Facility), Facility, session, user)
    if kind:
        stmt = stmt.where(Facility.kind == kind)
    rows = list(session.exec(stmt.order_by(Facility.name)))  # type: ignore[call-overload]
    own = _operator_facility_ids(session, user)
    if own:
        known = {f.id for f in rows}
        rows += [f for f in session.exec(select(Facility).where(Facility.id.in_(own))) if f.id not in known]  # type: ignore[union-attr]
    return rows


def current_grade(session: Session, facility: Facility) -> Grade | None:
    """The facility's newest grade that nothing superseded."""
    return session.exec(select(Grade).where(Grade.facility_id == facility.id, Grade.superseded_by_id == None)  # noqa: E711
                        .order_by(Grade.id.desc())).first()  # type: ignore[union-attr]


def current_grades(session: Session, facility_ids: list[int]) -> dict[int, Grade]:
    rows = session.exec(select(Grade).where(Grade.facility_id.in_(facility_ids), Grade.superseded_by_id == None))  # type: ignore[attr-defined]  # noqa: E711
    return {g.facility_id: g for g in rows}


def grade_history(session: Session, facility: Facility) -> list[Grade]:
    return list(session.exec(select(Grade).where(Grade.facility_id == facility.id).order_by(Grade.id.desc())))  # type: ignore[union-attr]


def plans(session: Session, user: User) -> list[InspectionPlan]:
    return list(session.exec(scoped(select(InspectionPlan), InspectionPlan, session, user)  # type: ignore[call-overload]
                             .order_by(InspectionPlan.id.desc())))


def inspections(session: Session, user: User, *, status: str | None = None,
                facility_id: int | None = None, plan_id: int | None = None) -> list[Inspection]:
    stmt = scoped(select(Inspection), Inspection, session, user)
    if status:
        stmt = stmt.where(Inspection.status == status)
    if facility_id:
        stmt = stmt.where(Inspection.facility_id == facility_id)
    if plan_id:
        stmt = stmt.where(Inspection.plan_id == plan_id)
    return list(session.exec(stmt.order_by(Inspection.id.desc())))  # type: ignore[call-overload]


def actions(session: Session, user: User, *, which: str = "open", facility_id: int | None = None,
            inspection_id: int | None = None, now: datetime | None = None) -> list[CorrectiveAction]:
    """open (everything not closed), due_soon, overdue, closed or all."""
    now = now or utcnow()
    stmt = select(CorrectiveAction)
    own = _operator_facility_ids(session, user)
    orgs = visible_org_ids(session, user)
    if own:
        stmt = stmt.where(CorrectiveAction.organisation_id.in_(orgs) | CorrectiveAction.facility_id.in_(own))  # type: ignore[attr-defined]
    else:
        stmt = stmt.where(CorrectiveAction.organisation_id.in_(orgs))  # type: ignore[attr-defined]
    if facility_id:
        stmt = stmt.where(CorrectiveAction.facility_id == facility_id)
    if inspection_id:
        stmt = stmt.where(CorrectiveAction.inspection_id == inspection_id)
    rows = list(session.exec(stmt.order_by(CorrectiveAction.due_at, CorrectiveAction.id)))  # type: ignore[arg-type]
    if which == "open":
        return [a for a in rows if a.status != "closed"]
    if which == "due_soon":
        return [a for a in rows if is_due_soon(a, now)]
    if which == "overdue":
        return [a for a in rows if is_overdue(a, now)]
    if which == "closed":
        return [a for a in rows if a.status == "closed"]
    return rows


def certificates(session: Session, user: User, *, plan_id: int | None = None) -> list[Certificate]:
    stmt = scoped(select(Certificate), Certificate, session, user).order_by(Certificate.id.desc())  # type: ignore[union-attr]
    rows = list(session.exec(stmt))  # type: ignore[call-overload]
    if plan_id is not None:
        grade_ids = {g.id for g in session.exec(select(Grade).where(Grade.plan_id == plan_id))}
        rows = [c for c in rows if c.grade_id in grade_ids]
    return rows


def certificate_by_code(session: Session, code: str) -> Certificate | None:
    """Public lookup by the unguessable verification code."""
    if not code or len(code) > 64:
        return None
    return session.exec(select(Certificate).where(Certificate.code == code)).first()


def dashboard(session: Session, user: User, *, today: date | None = None) -> dict[str, Any]:
    """Counts and lists for the admin dashboard."""
    today = today or utcnow().date()
    facs = facilities(session, user)
    grades = current_grades(session, [f.id for f in facs if f.id is not None])
    by_grade: Counter[str] = Counter()
    for f in facs:
        g = grades.get(f.id)  # type: ignore[arg-type]
        if f.is_disqualified:
            by_grade["取消资格"] += 1
        elif g is None:
            by_grade["未评定"] += 1
        elif g.valid_until < today:
            by_grade["已过期"] += 1
        else:
            by_grade[g.label or str(g.code)] += 1
    horizon = today + timedelta(days=90)
    expiring = [g for g in grades.values() if g.code > 0 and today <= g.valid_until <= horizon]
    return {
        "facilities": facs,
        "by_grade": sorted(by_grade.items(), key=lambda kv: kv[0]),
        "overdue": actions(session, user, which="overdue"),
        "due_soon": actions(session, user, which="due_soon"),
        "expiring": sorted(expiring, key=lambda g: g.valid_until),
        "in_progress": inspections(session, user, status="in_progress"),
        "awaiting_approval": inspections(session, user, status="submitted"),
        "facility_names": {f.id: f.name for f in facs},
    }


def as_date(value: datetime | None) -> date | None:
    return aware(value).date() if value else None

