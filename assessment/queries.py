"""Reads for elders and assessments, always scoped to the user's organisation subtree."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app
from sqlmodel import Session, col, select

from accounts.models import Organisation, User
from accounts.queries import get_scoped_or_404, visible_org_ids
from assessment.idnumber import normalise_id_number
from assessment.models import Assessment, AssessmentPhoto, AssessmentSignature, Elder, Entitlement
from core.crypto import cipher
from core.workflow import separation_of_duties  # noqa: F401  (views and API read it here)
from scoring import Definition

DUE_SOON_DAYS = 30


def assessment_definitions() -> dict[str, Definition]:
    """The newest published version of every assessment instrument, by id, GB/T 42195 first."""
    from instruments import registry

    with registry.lookup_session() as session:
        packs = registry.published(session, kind="assessment")
    default = current_app.config.get("ASSESSMENT_DEFAULT_INSTRUMENT", "gbt42195-2022")
    return dict(sorted(packs.items(), key=lambda kv: (kv[0] != default, kv[0])))


def definition_for(assessment: Assessment) -> Definition:
    """The (id, version) an assessment was captured with, whatever its status now (404 if gone)."""
    from sqlalchemy.orm import object_session

    from instruments import UnknownDefinitionError, registry

    try:
        with registry.lookup_session(object_session(assessment)) as session:
            return registry.get_definition(session, assessment.instrument_id,
                                           assessment.instrument_version, kind="assessment")
    except UnknownDefinitionError:
        abort(404)


def required_signatures() -> int:
    """How many assessors sign before review (the standard has two present)."""
    return max(1, int(current_app.config.get("ASSESSMENT_REQUIRED_SIGNATURES", 2)))


def qualification_required() -> bool:
    """Whether an assessor with no recorded qualification is refused at signing
    (YIYANG_QUALIFICATION_REQUIRED, off by default; an expired one is always refused)."""
    return bool(current_app.config.get("QUALIFICATION_REQUIRED", False))


def returns_of(session: Session, assessment: Assessment) -> list[Any]:
    """The times a reviewer sent this assessment back, newest first, with their reasons."""
    from audit.queries import events_about

    return events_about(session, "assessment", assessment.id, "assessment.return")


def get_elder(session: Session, elder_id: Any, user: User) -> Elder:
    return get_scoped_or_404(session, Elder, elder_id, user)


def get_assessment(session: Session, assessment_id: Any, user: User) -> Assessment:
    return get_scoped_or_404(session, Assessment, assessment_id, user)


def get_photo(session: Session, assessment: Assessment, photo_id: Any) -> AssessmentPhoto:
    """A photo of this (already scoped) assessment, or a 404."""
    from core.db import valid_id

    key = valid_id(photo_id)
    photo = session.get(AssessmentPhoto, key) if key is not None else None
    if photo is None or photo.assessment_id != assessment.id:
        abort(404)
    return photo


def is_full_id_number(text: str) -> bool:
    """Whether a search text is a whole ID number (then it must not travel in a URL)."""
    return re.fullmatch(r"\d{17}[\dX]", normalise_id_number(text)) is not None


def search_elders(session: Session, user: User, query: str = "", limit: int = 100) -> list[Elder]:
    """By full ID number (exact, via the keyed hash), masked ID number, or name."""
    stmt = select(Elder).where(col(Elder.organisation_id).in_(visible_org_ids(session, user)))
    text = query.strip()
    number = normalise_id_number(text)
    if is_full_id_number(number):
        stmt = stmt.where(Elder.id_number_hash == cipher().lookup_hash(number))
    elif "*" in number and re.fullmatch(r"[\dX*]+", number):
        head, _, tail = number.partition("*")
        tail = tail.strip("*")
        stmt = stmt.where(col(Elder.id_number_masked).startswith(head))
        if tail:
            stmt = stmt.where(col(Elder.id_number_masked).endswith(tail))
    elif text:
        stmt = stmt.where(col(Elder.name).contains(text))
    return list(session.exec(stmt.order_by(col(Elder.name), col(Elder.id)).limit(limit)))


def assessments_of(session: Session, elder: Elder) -> list[Assessment]:
    stmt = select(Assessment).where(Assessment.elder_id == elder.id)
    return list(session.exec(stmt.order_by(col(Assessment.created_at).desc(), col(Assessment.id).desc())))


def recent_assessments(session: Session, user: User, limit: int = 50, status: str | None = None
                       ) -> list[tuple[Assessment, Elder]]:
    stmt = (select(Assessment, Elder).join(Elder, col(Elder.id) == Assessment.elder_id)
            .where(col(Assessment.organisation_id).in_(visible_org_ids(session, user))))
    if status:
        stmt = stmt.where(Assessment.status == status)
    stmt = stmt.order_by(col(Assessment.updated_at).desc(), col(Assessment.id).desc()).limit(limit)
    return [(a, e) for a, e in session.exec(stmt)]


def signatures_with_users(session: Session, assessment: Assessment) -> list[tuple[AssessmentSignature, User]]:
    stmt = (select(AssessmentSignature, User).join(User, col(User.id) == AssessmentSignature.user_id)
            .where(AssessmentSignature.assessment_id == assessment.id)
            .order_by(col(AssessmentSignature.signed_at), col(AssessmentSignature.id)))
    return [(s, u) for s, u in session.exec(stmt)]


def history_of(session: Session, assessment: Assessment) -> list[Assessment]:
    """Every version of this assessment, oldest first (following amendments both ways)."""
    first = assessment
    while first.amends_id:
        previous = session.get(Assessment, first.amends_id)
        if previous is None:
            break
        first = previous
    chain = [first]
    while True:
        following = session.exec(select(Assessment).where(Assessment.amends_id == chain[-1].id)).first()
        if following is None:
            break
        chain.append(following)
    return chain


def entitlement_for(session: Session, assessment: Assessment) -> Entitlement | None:
    """The nearest organisation's (own, then ancestors') entitlement for the final level."""
    level = (assessment.result or {}).get("level") or {}
    if level.get("code") is None:
        return None
    org = session.get(Organisation, assessment.organisation_id)
    if org is None:
        return None
    ancestors = [int(p) for p in org.path.strip("/").split("/") if p]
    rows = session.exec(select(Entitlement).where(
        col(Entitlement.organisation_id).in_(ancestors), Entitlement.instrument_id == assessment.instrument_id,
        Entitlement.level_code == level["code"]))
    by_org = {row.organisation_id: row for row in rows}
    for org_id in reversed(ancestors):
        if org_id in by_org:
            return by_org[org_id]
    return None


def entitlements_table(session: Session, organisation: Organisation, instrument_id: str) -> dict[int, Entitlement]:
    rows = session.exec(select(Entitlement).where(Entitlement.organisation_id == organisation.id,
                                                  Entitlement.instrument_id == instrument_id))
    return {row.level_code: row for row in rows}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class DueEntry:
    elder: Elder
    assessment: Assessment
    due_on: date
    days_left: int


def reassessment_due(session: Session, user: User, today: date | None = None,
                     soon_days: int = DUE_SOON_DAYS) -> tuple[list[DueEntry], list[DueEntry]]:
    """(due soon, overdue), read from each elder's current state (assessment.state): the latest
    approved assessment plus the organisation's interval; elders with a newer assessment under
    way are not listed. Holds every row: pages and commands use assessment.lists instead."""
    from assessment.lists import stream_due

    today = today or date.today()
    rows = list(stream_due(session, visible_org_ids(session, user), today=today, soon_days=soon_days))
    found = {a.id: a for a in session.exec(select(Assessment).where(
        col(Assessment.id).in_([r.state.latest_assessment_id for r in rows])))} if rows else {}
    soon: list[DueEntry] = []
    overdue: list[DueEntry] = []
    for row in rows:
        entry = DueEntry(row.elder, found[row.state.latest_assessment_id or 0], row.due_on, row.days_left)
        (overdue if row.due_on < today else soon).append(entry)
    return soon, overdue
