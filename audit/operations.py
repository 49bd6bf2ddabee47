"""Writing audit events. Operations call `record_event`; the request's actor, client address
and request id are taken from the request context when there is one.

The event joins the chain when it is flushed (a `before_flush` hook): only then is the global
lock taken, the head read and the keyed hash computed, so the lock is held from the append to
the commit, not through the whole operation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from audit.chain import audit_key, event_digest, verify
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


def _request_meta() -> tuple[Any, str | None, str | None]:
    try:
        from flask import g, has_request_context, request
    except ImportError:  # pragma: no cover
        return None, None, None
    if not has_request_context():
        return None, None, None
    from core.auth import current_actor

    return current_actor(), request.remote_addr, g.get("request_id")


def _lock_chain(connection: Any) -> None:
    """Serialise appenders of the chain on PostgreSQL (SQLite already has one writer). The lock
    is per schema: the chains of two schemas in one database never wait for each other."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy import text

        connection.execute(text("SELECT pg_advisory_xact_lock(4242001, hashtext(current_schema()))"))


@sa_event.listens_for(OrmSession, "before_flush")
def _append_to_chain(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Link the new events of this flush to the head of the chain, in the order they were made."""
    pending = [obj for obj in session.new if isinstance(obj, AuditEvent) and not obj.hash]
    if not pending:
        return
    order = session.info.get("audit_order", {})
    pending.sort(key=lambda e: order.get(id(e), 0))
    connection = session.connection()
    _lock_chain(connection)
    prev = connection.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()  # type: ignore[union-attr,arg-type]
    key = audit_key()
    for event in pending:
        event.prev_hash = prev or ""
        event.hash = event_digest(event, key)
        prev = event.hash
        order.pop(id(event), None)


_ORDER = iter(range(1, 1 << 62))


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
    """Add one event; it joins the chain at the next flush (at the latest, the commit). An
    event with no actor organisation carries its target's, when the target has one."""
    req_actor, req_address, request_id = _request_meta()
    actor = actor if actor is not None else req_actor
    if target is not None:
        target_type = target_type or getattr(target, "__tablename__", type(target).__name__)
        target_id = target_id if target_id is not None else getattr(target, "id", None)
    organisation_id = getattr(actor, "organisation_id", None)
    if organisation_id is None and target is not None:
        organisation_id = getattr(target, "organisation_id", None)
    event = AuditEvent(
        at=utcnow(),
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", None),
        roles=getattr(actor, "roles", None),
        organisation_id=organisation_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        changes=mask_changes(changes),
        reason=reason,
        client_address=client_address or req_address,
        request_id=request_id,
    )
    session.info.setdefault("audit_order", {})[id(event)] = next(_ORDER)
    session.add(event)
    return event


def verify_chain(session: Session) -> tuple[bool, int | None, int]:
    """Walk the whole chain; (ok, id of the first broken row or of the checkpoint that shows a
    cut, rows checked). `audit.chain.verify` says more."""
    report = verify(session, full=True)
    return report.ok, report.event_id if report.status == "rewritten" else (report.event_id or report.checkpoint_id), report.checked
