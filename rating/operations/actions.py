"""Corrective actions: evidence, verification, and escalation of overdue actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from audit import record_event
from core.i18n import N_
from core.reasons import OVERDUE, system_reason
from core.timeutil import aware, utcnow  # noqa: F401  (aware: re-exported for rating)
from jobs.events import emit
from rating.models import CorrectiveAction
from rating.operations.facilities import RatingError, refused
from rating.state import refresh_facility_state
from rating.workflow import ACTION

DUE_SOON_DAYS = 7
EVIDENCE_MAX = 2000


def is_overdue(action: CorrectiveAction, now: datetime | None = None) -> bool:
    """Past its deadline and still waiting for the facility (computed, never stored)."""
    return action.status in ("open", "escalated") and aware(action.due_at) < (now or utcnow())


def is_due_soon(action: CorrectiveAction, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return action.status == "open" and now <= aware(action.due_at) < now + timedelta(days=DUE_SOON_DAYS)


def display_status(action: CorrectiveAction, now: datetime | None = None) -> str:
    """The state shown to users: overdue is derived from the deadline."""
    if action.status == "open" and is_overdue(action, now):
        return "overdue"
    return action.status


def submit_evidence(*, session: Session, actor: Any, action: CorrectiveAction, note: str,
                    now: datetime | None = None) -> CorrectiveAction:
    """The facility (or the inspector) reports what was done."""
    note = (note or "").strip()
    if not note:
        raise RatingError([{"item": "note", "message": N_("请说明整改情况")}])
    ACTION.require(action, actor, "submit_evidence", error=refused)
    old = action.status
    action.status = "evidence_submitted"
    action.evidence_note = note[:EVIDENCE_MAX]
    action.evidence_at = now or utcnow()
    action.evidence_by_id = getattr(actor, "id", None)
    session.add(action)
    session.flush()
    record_event(session=session, action="rating.action.evidence", target=action, actor=actor,
                 changes={"old": {"status": old}, "new": {"status": action.status}})
    return action


def verify_action(*, session: Session, actor: Any, action: CorrectiveAction, accept: bool = True,
                  reason: str | None = None, now: datetime | None = None) -> CorrectiveAction:
    """Accept the evidence and close the action, or send it back with a reason."""
    if action.status == "closed":
        return action
    step = "verify" if accept else "return_escalated" if action.escalated_at else "return"
    after = ACTION.require(action, actor, step, error=refused)
    old = action.status
    if accept:
        action.status = after
        action.verified_at = now or utcnow()
        action.verified_by_id = getattr(actor, "id", None)
    else:
        if not (reason or "").strip():
            raise RatingError([{"item": "reason", "message": N_("退回整改需要说明原因")}])
        action.status = after
    session.add(action)
    session.flush()
    record_event(session=session, action="rating.action.verify" if accept else "rating.action.reject",
                 target=action, actor=actor, changes={"old": {"status": old}, "new": {"status": action.status}},
                 reason=reason)
    refresh_facility_state(session, action.facility_id)
    return action


def escalate_overdue(*, session: Session, actor: Any, organisation_ids: list[int],
                     now: datetime | None = None) -> list[int]:
    """Mark every open action past its deadline as escalated (逾期升级), once: one UPDATE for
    all of them, then one audit event each. Returns the escalated action ids."""
    now = now or utcnow()
    session.flush()
    result = session.execute(
        update(CorrectiveAction)
        .where(CorrectiveAction.organisation_id.in_(organisation_ids),  # type: ignore[attr-defined]
               CorrectiveAction.status == "open", CorrectiveAction.due_at < now)  # type: ignore[arg-type]
        .values(status="escalated", escalated_at=now)
        .returning(CorrectiveAction.id)
        .execution_options(synchronize_session=False))
    escalated = sorted(row_id for (row_id,) in result)
    for row_id in escalated:
        record_event(session=session, action="rating.action.escalate", target_type="rating_action",
                     target_id=row_id, actor=actor, changes={"old": {"status": "open"}, "new": {"status": "escalated"}},
                     reason=system_reason(OVERDUE))
    done = set(escalated)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, CorrectiveAction) and obj.id in done:
            session.expire(obj)  # actions already loaded show the new status
    for action in session.exec(select(CorrectiveAction).where(CorrectiveAction.id.in_(escalated))):  # type: ignore[union-attr]
        emit(session, "action.overdue", action)
    session.flush()
    return escalated
