"""Reading the audit log, scoped to the organisations the viewer may see, paged by keyset (the
event id) so the ten-millionth page costs what the first does; no COUNT over the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from accounts.models import Organisation
from accounts.queries import visible_org_ids
from audit.actions import ACTIONS
from audit.models import AuditEvent

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass
class AuditFilter:
    person: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def is_root_admin(session: Session, viewer: Any) -> bool:
    """The administrator of the installation's top organisation (the first root): the only one
    who sees events that belong to no organisation (failed logins of unknown names, the
    command line)."""
    if not viewer.has_role("admin"):
        return False
    root = session.exec(select(func.min(Organisation.id)).where(Organisation.parent_id == None)).one()  # type: ignore[arg-type]  # noqa: E711
    return root is not None and viewer.organisation_id == root


def filtered(session: Session, viewer: Any, flt: AuditFilter) -> Any:
    """Events of the viewer's subtree (and, for the root administrator, events of no
    organisation) matching the filter, newest first."""
    scope = AuditEvent.organisation_id.in_(visible_org_ids(session, viewer))  # type: ignore[union-attr]
    if is_root_admin(session, viewer):
        scope = or_(scope, AuditEvent.organisation_id.is_(None))  # type: ignore[union-attr]
    stmt = select(AuditEvent).where(scope)
    if flt.person:
        stmt = stmt.where(AuditEvent.username == flt.person)
    if flt.action:
        stmt = stmt.where(AuditEvent.action.startswith(flt.action, autoescape=True))  # type: ignore[attr-defined]
    if flt.target_type:
        stmt = stmt.where(AuditEvent.target_type == flt.target_type)
    if flt.target_id:
        stmt = stmt.where(AuditEvent.target_id == flt.target_id)
    if flt.date_from:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(flt.date_from, time.min).astimezone())
    if flt.date_to:
        stmt = stmt.where(AuditEvent.at < datetime.combine(flt.date_to + timedelta(days=1), time.min).astimezone())
    return stmt.order_by(AuditEvent.id.desc())  # type: ignore[union-attr]


@dataclass
class Page:
    events: list[AuditEvent]
    older: int | None  # cursor of the next (older) page, None on the last
    newer: int | None  # `before` cursor of the previous (newer) page, None on the first


def page_of(session: Session, viewer: Any, flt: AuditFilter, *, cursor: int | None = None,
            before: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page: events older than `cursor` (newest first), or the page just newer than
    `before`. Rows added meanwhile never shift a page: the cursor is an event id."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = filtered(session, viewer, flt)
    if before is not None:
        newer = stmt.where(AuditEvent.id > before).order_by(None).order_by(AuditEvent.id.asc())  # type: ignore[union-attr,operator]
        rows = list(session.exec(newer.limit(limit + 1)))
        has_newer = len(rows) > limit
        events = list(reversed(rows[:limit]))
        return Page(events, older=events[-1].id if events else None,
                    newer=events[0].id if events and has_newer else None)
    if cursor is not None:
        stmt = stmt.where(AuditEvent.id < cursor)  # type: ignore[operator]
    rows = list(session.exec(stmt.limit(limit + 1)))
    events = rows[:limit]
    return Page(events, older=events[-1].id if len(rows) > limit else None,
                newer=events[0].id if events and cursor is not None else None)


def action_names() -> list[str]:
    """The filter's choices: the code's list, not a scan of the log."""
    return sorted(ACTIONS)


def events_about(session: Session, target_type: str, target_id: Any, action: str) -> list[AuditEvent]:
    """The events of one kind about one record, newest first (e.g. the times it was sent back)."""
    stmt = select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id),
                                    AuditEvent.action == action)
    return list(session.exec(stmt.order_by(AuditEvent.id.desc())))  # type: ignore[union-attr]
