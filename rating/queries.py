"""Reads for rating, always scoped to what the user may see. Another organisation's object is
a 404. Operator accounts see the facilities they run (and those facilities' actions)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from flask import abort
from sqlmodel import Session, select

from accounts.models import User
from accounts.queries import scoped, subtree_ids, visible_org_ids
from core.db import valid_id
from core.paging import in_ids
from core.timeutil import utcnow
from core.workflow import separation_of_duties  # noqa: F401  (views and API read it here)
from rating.models import (
    Certificate,
    CorrectiveAction,
    EvidencePhoto,
    Facility,
    Grade,
    Inspection,
    InspectionPlan,
)
from rating.operations.actions import aware, is_due_soon, is_overdue

T = TypeVar("T")
STAFF_ROLES = ("admin", "inspector")  # they see rating records by organisation


def is_operator_only(user: User) -> bool:
    """A care operator's account with no staff role: it sees the facilities it runs, and nothing
    of the organisation it belongs to (its inspections, actions, grades and certificates only)."""
    return user.has_role("operator") and not user.has_any_role(STAFF_ROLES)


def operator_facility_ids(session: Session, user: User) -> list[int]:
    """Facilities run by the user's organisation or one below it (operator accounts only)."""
    if not user.has_role("operator"):
        return []
    orgs = subtree_ids(session, user.organisation_id)  # never contracted areas
    rows = session.exec(select(Facility.id).where(in_ids(session, Facility.operator_organisation_id, orgs)))  # type: ignore[union-attr]
    return [r for r in rows if r is not None]


def facility_of(session: Session, obj: Any) -> int | None:
    """The facility a rating record belongs to (an evidence photo through its action or inspection)."""
    if isinstance(obj, Facility):
        return obj.id
    if isinstance(obj, EvidencePhoto):
        parent = (session.get(CorrectiveAction, obj.action_id) if obj.action_id is not None
                  else session.get(Inspection, obj.inspection_id) if obj.inspection_id is not None else None)
        return parent.facility_id if parent is not None else None
    return getattr(obj, "facility_id", None)


def get_or_404(session: Session, model: type[T], object_id: Any, user: User) -> T:
    """One row the user may see; an operator sees only its own facilities' records."""
    key = valid_id(object_id)
    if key is None:
        abort(404)
    obj = session.get(model, key)
    if obj is None:
        abort(404)
    if not is_operator_only(user) and getattr(obj, "organisation_id", None) in visible_org_ids(session, user):
        return obj
    facility_id = facility_of(session, obj)
    if facility_id is not None and facility_id in operator_facility_ids(session, user):
        return obj
    abort(404)


def facilities(session: Session, user: User, *, kind: str | None = None) -> list[Facility]:
    stmt = scoped(select(Facility), Facility, session, user)
    if is_operator_only(user):
        stmt = select(Facility).where(Facility.id.in_(operator_facility_ids(session, user)))  # type: ignore[union-attr]
    if kind:
        stmt = stmt.where(Facility.kind == kind)
    rows = list(session.exec(stmt.order_by(Facility.name)))  # type: ignore[call-overload]
    own = operator_facility_ids(session, user)
    if own and not is_operator_only(user):
        known = {f.id for f in rows}
        rows += [f for f in session.exec(select(Facility).where(Facility.id.in_(own))) if f.id not in known]  # type: ignore[union-attr]
    return rows


def returns_of(session: Session, inspection: Inspection) -> list[Any]:
    """The times an approver sent this inspection back, newest first, with their reasons."""
    from audit.queries import events_about

    return events_about(session, "rating_inspection", inspection.id, "rating.inspection.return")


def current_grade(session: Session, facility: Facility) -> Grade | None:
    """The facility's newest grade that nothing superseded."""
    return session.exec(select(Grade).where(Grade.facility_id == facility.id, Grade.superseded_by_id == None)  # noqa: E711
                        .order_by(Grade.id.desc())).first()  # type: ignore[union-attr]


def current_grades(session: Session, facility_ids: list[int]) -> dict[int, Grade]:
    """The current grade of each of a page of facilities, in one query (the newest one wins, as
    in current_grade)."""
    rows = session.exec(select(Grade).where(Grade.facility_id.in_(facility_ids), Grade.superseded_by_id == None)  # type: ignore[attr-defined]  # noqa: E711
                        .order_by(Grade.id))  # type: ignore[arg-type]
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
    own = operator_facility_ids(session, user)
    orgs = visible_org_ids(session, user)
    if is_operator_only(user):
        stmt = stmt.where(CorrectiveAction.facility_id.in_(own))  # type: ignore[attr-defined]
    elif own:
        stmt = stmt.where(in_ids(session, CorrectiveAction.organisation_id, orgs) | CorrectiveAction.facility_id.in_(own))  # type: ignore[attr-defined]
    else:
        stmt = stmt.where(in_ids(session, CorrectiveAction.organisation_id, orgs))  # type: ignore[attr-defined]
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


def dashboard(session: Session, user: User, *, today: date | None = None, shown: int = 20) -> dict[str, Any]:
    """Counts and the first rows of each list for the admin dashboard, from the facility state
    table and bounded queries (never a whole table)."""
    from flask_babel import gettext as _
    from sqlalchemy import func

    from core.i18n import page_lang
    from core.paging import PageParams
    from rating import lists
    from rating.models import FacilityState
    from rating.rewards import scheme_grades
    from rating.schemes import grade_name

    today = today or utcnow().date()
    orgs = visible_org_ids(session, user)
    expired = FacilityState.grade_valid_until < today  # type: ignore[operator]
    rows = session.exec(  # type: ignore[call-overload]
        select(Facility.is_disqualified, FacilityState.grade_id, FacilityState.grade_label,
               FacilityState.grade_code, Grade.scheme, expired, func.count())
        .select_from(Facility).outerjoin(FacilityState, FacilityState.facility_id == Facility.id)  # type: ignore[arg-type]
        .outerjoin(Grade, Grade.id == FacilityState.grade_id)  # type: ignore[arg-type]
        .where(in_ids(session, Facility.organisation_id, orgs))  # type: ignore[attr-defined]
        .group_by(Facility.is_disqualified, FacilityState.grade_id, FacilityState.grade_label,
                  FacilityState.grade_code, Grade.scheme, expired))
    by_grade: Counter[str] = Counter()
    total = 0
    lang, levels = page_lang(), scheme_grades()
    for disqualified, grade_id, label, code, scheme, is_expired, count in rows:
        total += count
        if disqualified:
            by_grade[_("取消资格")] += count
        elif grade_id is None:
            by_grade[_("未评定")] += count
        elif is_expired:
            by_grade[_("已过期")] += count
        else:
            by_grade[grade_name(scheme, code, label, lang, levels)] += count
    first = PageParams(limit=shown)
    overdue, overdue_count = lists.actions_page(session, user, {"which": "overdue"}, first)
    due_soon, due_soon_count = lists.actions_page(session, user, {"which": "due_soon"}, first)
    in_progress, in_progress_count = lists.inspections_page(session, user, {"status": "in_progress"}, first)
    awaiting, awaiting_count = lists.inspections_page(session, user, {"status": "submitted"}, first)
    horizon = today + timedelta(days=90)
    expiring = list(session.exec(  # type: ignore[call-overload]
        select(Grade, Facility.name).join(FacilityState, FacilityState.grade_id == Grade.id)  # type: ignore[arg-type]
        .join(Facility, Facility.id == Grade.facility_id)  # type: ignore[arg-type]
        .where(in_ids(session, Grade.organisation_id, orgs), Grade.code > 0,  # type: ignore[attr-defined]
               Grade.valid_until >= today, Grade.valid_until <= horizon)  # type: ignore[operator]
        .order_by(Grade.valid_until, Grade.id).limit(shown)))
    names = {a.facility_id: n for page in (overdue, due_soon) for a, n in page.items}
    names.update({i.facility_id: n for page in (in_progress, awaiting) for i, n in page.items})
    names.update({g.facility_id: n for g, n in expiring})
    return {
        "facility_count": total,
        "by_grade": sorted(by_grade.items(), key=lambda kv: kv[0]),
        "overdue": [a for a, _n in overdue.items], "overdue_count": overdue_count,
        "due_soon": [a for a, _n in due_soon.items], "due_soon_count": due_soon_count,
        "expiring": [g for g, _n in expiring],
        "in_progress": [i for i, _n in in_progress.items], "in_progress_count": in_progress_count,
        "awaiting_approval": [i for i, _n in awaiting.items], "awaiting_count": awaiting_count,
        "facility_names": names,
    }


def as_date(value: datetime | None) -> date | None:
    return aware(value).date() if value else None

