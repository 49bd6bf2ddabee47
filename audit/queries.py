"""Reading the audit log, scoped to the organisations the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from accounts.queries import visible_org_ids
from audit.models import AuditEvent

PAGE_SIZE = 50


@dataclass
class AuditFilter:
    person: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def filtered(session: Session, viewer: Any, flt: AuditFilter) -> Any:
    """Events of the viewer's subtree (and system events) matching the filter, newest first."""
    stmt = select(AuditEvent).where(
        or_(AuditEvent.organisation_id.in_(visible_org_ids(session, viewer)),  # type: ignore[union-attr]
            AuditEvent.organisation_id.is_(None))  # type: ignore[union-attr]
    )
    if flt.person:
        stmt = stmt.where(AuditEvent.username == flt.person)
    if flt.action:
        stmt = stmt.where(AuditEvent.action.startswith(flt.action))  # type: ignore[attr-defined]
    if flt.target_type:
        stmt = stmt.where(AuditEvent.target_type == flt.target_type)
    if flt.target_id:
        stmt = stmt.where(AuditEvent.target_id == flt.target_id)
    if flt.date_from:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(flt.date_from, time.min).astimezone())
    if flt.date_to:
        stmt = stmt.where(AuditEvent.at < datetime.combine(flt.date_to + timedelta(days=1), time.min).astimezone())
    return stmt.order_by(AuditEvent.id.desc())  # type: ignore[union-attr]


def page_of(session: Session, viewer: Any, flt: AuditFilter, page: int) -> tuple[list[AuditEvent], int]:
    stmt = filtered(session, viewer, flt)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = list(session.exec(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return rows, int(total)


def action_names(session: Session) -> list[str]:
    return [a for a in session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action))]
