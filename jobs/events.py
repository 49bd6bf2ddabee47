"""Events for other systems: `emit(session, name, target)` right after the audit event.

The delivery rows are written in the caller's transaction (an outbox): if the change rolls
back, nothing is sent; once it commits, the deliveries go to the queue. Payloads carry ids and
facts, never personal data (no names or ID numbers of older people).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session, select

from core.i18n import N_
from core.timeutil import utcnow

EVENTS = {
    "assessment.locked": N_("评估已审核锁定"),
    "assessment.amended": N_("评估已发起更正"),
    "inspection.approved": N_("检查已审批"),
    "grade.awarded": N_("等级已评定"),
    "certificate.issued": N_("证书已发放"),
    "certificate.revoked": N_("证书已撤销"),
    "action.overdue": N_("整改逾期"),
}

# What each record contributes to a payload.
FIELDS = {
    "assessment": ("id", "organisation_id", "elder_id", "instrument_id", "instrument_version", "status",
                   "revision", "amends_id", "approved_at", "amendment_reason"),
    "rating_inspection": ("id", "organisation_id", "facility_id", "plan_id", "scheme", "scheme_version",
                          "status", "proposed_grade_code", "is_unqualified", "approved_at"),
    "rating_grade": ("id", "organisation_id", "facility_id", "inspection_id", "scheme", "code", "label",
                     "stars", "medal", "valid_from", "valid_until"),
    "rating_certificate": ("id", "organisation_id", "facility_id", "grade_id", "serial", "issued_on",
                           "valid_until", "revoked_at", "revoked_reason"),
    "rating_action": ("id", "organisation_id", "facility_id", "inspection_id", "item_id", "severity",
                      "status", "due_at", "escalated_at"),
}

PENDING = "yiyang.webhook_deliveries"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def payload_of(name: str, target: Any) -> dict[str, Any]:
    table = getattr(target, "__tablename__", type(target).__name__)
    data = {field: _plain(getattr(target, field, None)) for field in FIELDS.get(table, ("id",))}
    if table == "assessment" and isinstance(target.result, dict):
        level = target.result.get("level") or {}
        data["level"] = {"code": level.get("code"), "label": level.get("label")}
    return {"event": name, "occurred_at": utcnow().isoformat(), "data": data}


def _covers(session: Session, subscription_org: int, target_org: int | None) -> bool:
    from accounts.queries import subtree_ids

    return target_org is not None and target_org in subtree_ids(session, subscription_org)


def emit(session: Session, name: str, target: Any, *, when: bool = True) -> None:
    """Queue `name` about `target` for every subscription that wants it (sent after commit)."""
    from jobs.models import WebhookDelivery, WebhookSubscription

    if not when:
        return
    if name not in EVENTS:
        raise ValueError(f"unknown event {name}")
    org = getattr(target, "organisation_id", None)
    wanted = [s for s in session.exec(select(WebhookSubscription).where(WebhookSubscription.is_active == True))  # noqa: E712
              if name in (s.events or []) and _covers(session, s.organisation_id, org)]
    if not wanted:
        return
    payload = payload_of(name, target)
    rows = [WebhookDelivery(subscription_id=s.id or 0, organisation_id=s.organisation_id, event=name,
                            payload=payload) for s in wanted]
    session.add_all(rows)
    session.flush()
    session.info.setdefault(PENDING, []).extend(r.id for r in rows)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING, None)
    if not ids or not has_app_context():
        return  # outside an app the scheduler's sweep sends them
    from jobs.queue import enqueue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for ident in ids:
        enqueue(app, "webhook", ident)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)
