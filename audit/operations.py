"""Writing audit events. Operations call `record_event`; the request's actor, client address
and request id are taken from the request context when there is one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session, select

from audit.models import AuditEvent
from core.timeutil import utcnow

SENSITIVE_KEYS = {"id_number", "phone", "diagnoses", "password", "password_hash", "contact_phone"}


def mask_changes(changes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Sensitive values never reach the log: they are replaced by a marker."""
    if not changes:
        return changes
    masked: dict[str, Any] = {}
    for key, value in changes.items():
        if key in SENSITIVE_KEYS:
            masked[key] = "***"
        elif isinstance(value, dict):
            masked[key] = mask_changes(value)
        else:
            masked[key] = value
    return masked


def event_digest(event: AuditEvent) -> str:
    payload = {
        "at": event.at.isoformat(timespec="microseconds"),
        "user_id": event.user_id,
        "username": event.username,
        "roles": event.roles,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "changes": event.changes,
        "reason": event.reason,
        "client_address": event.client_address,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _request_meta() -> tuple[Any, str | None, str | None]:
    try:
        from flask import g, has_request_context, request
    except ImportError:  # pragma: no cover
        return None, None, None
    if not has_request_context():
        return None, None, None
    from core.auth import current_actor

    return current_actor(), request.remote_addr, g.get("request_id")


def _lock_chain(session: Session) -> None:
    """Serialise writers of the chain on PostgreSQL (SQLite already has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


def record_event(
    *,
    session: Session,
    action: str,
    target: Any = None,
    target_type: str | None = None,
    target_id: Any = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    actor: Any = None,
    client_address: str | None = None,
) -> AuditEvent:
    """Append one event to the chain and flush it."""
    req_actor, req_address, request_id = _request_meta()
    actor = actor if actor is not None else req_actor
    if target is not None:
        target_type = target_type or getattr(target, "__tablename__", type(target).__name__)
        target_id = target_id if target_id is not None else getattr(target, "id", None)
    _lock_chain(session)
    last = session.exec(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    event = AuditEvent(
        at=utcnow(),
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", None),
        roles=getattr(actor, "roles", None),
        organisation_id=getattr(actor, "organisation_id", None),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        changes=mask_changes(changes),
        reason=reason,
        client_address=client_address or req_address,
        request_id=request_id,
        prev_hash=last or "",
    )
    event.hash = event_digest(event)
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session) -> tuple[bool, int | None, int]:
    """Walk the chain in order; return (ok, id of the first broken row, rows checked)."""
    prev = ""
    checked = 0
    for event in session.exec(select(AuditEvent).order_by(AuditEvent.id)):  # type: ignore[arg-type]
        checked += 1
        if event.prev_hash != prev or event_digest(event) != event.hash:
            return False, event.id, checked
        prev = event.hash
    return True, None, checked
