"""The audit hash chain: each event's hash is an HMAC (key outside the database, YIYANG_AUDIT_KEY
or instance/audit_key) over its content and the previous hash, so nobody holding only the
database can recompute a rewritten chain; signed checkpoints (the instance's Ed25519 key) anchor
the head, so cutting the log short is detected too.

Verification streams only the columns the digest covers through a server-side cursor, in
batches, and starts from the latest stored checkpoint unless asked to walk everything: memory
stays bounded whatever the log size."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from audit.models import AuditCheckpoint, AuditEvent
from core.timeutil import utcnow

BATCH = 2000
DIGEST_FIELDS = ("at", "user_id", "username", "roles", "organisation_id", "action", "target_type",
                 "target_id", "changes", "reason", "client_address", "request_id", "prev_hash")
COLUMNS = [AuditEvent.id, *(getattr(AuditEvent, name) for name in DIGEST_FIELDS), AuditEvent.hash]


class AuditKeyError(RuntimeError):
    """No audit key where one is required; the message says what to set."""


# --- the key -------------------------------------------------------------------------------


def audit_key() -> bytes:
    """The chain's HMAC key: the app's AUDIT_KEY, or outside an app (a script) YIYANG_AUDIT_KEY
    or the instance folder's audit_key, created there once outside production."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("AUDIT_KEY"):
        return str(current_app.config["AUDIT_KEY"]).encode()
    configured = os.environ.get("YIYANG_AUDIT_KEY")
    if configured:
        return configured.encode()
    from core.resources import default_instance_path

    instance = Path(os.environ.get("YIYANG_INSTANCE_PATH") or default_instance_path())
    if not (instance / "audit_key").exists() and os.environ.get("YIYANG_ENV") == "production":
        raise AuditKeyError("YIYANG_ENV=production 需要设置 YIYANG_AUDIT_KEY。 Production needs YIYANG_AUDIT_KEY.")
    from core.config import _instance_secret

    return _instance_secret(instance, "audit_key").encode()


# --- digests -------------------------------------------------------------------------------


_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode  # what json.dumps builds per call


def _blob(values: Mapping[str, Any]) -> bytes:
    at = values["at"]
    payload = {name: values[name] for name in DIGEST_FIELDS}
    payload["at"] = at.isoformat(timespec="microseconds") if hasattr(at, "isoformat") else str(at)
    return _ENCODE(payload).encode()


class Digester:
    """event_digest for many events under one key (a bulk fill): the key's HMAC state is set up
    once and copied per event. `values` holds every digest field, `at` timezone-aware."""

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def digest(self, values: Mapping[str, Any]) -> str:
        mac = self._mac.copy()
        mac.update(_blob(values))
        return mac.hexdigest()


def _values(event: Any) -> dict[str, Any]:
    if isinstance(event, Mapping):
        return dict(event)
    return {name: getattr(event, name) for name in DIGEST_FIELDS}


def _aware(values: dict[str, Any]) -> dict[str, Any]:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    at = values["at"]
    if getattr(at, "tzinfo", 1) is None:
        from datetime import UTC

        values["at"] = at.replace(tzinfo=UTC)
    return values


def event_digest(event: Any, key: bytes | None = None) -> str:
    """HMAC-SHA256 of an event's content and its prev_hash (an AuditEvent or a mapping)."""
    return hmac.new(key if key is not None else audit_key(), _blob(_aware(_values(event))), hashlib.sha256).hexdigest()


def legacy_digest(event: Any) -> str:
    """The unkeyed SHA-256 of versions before the keyed chain (accepted only where a signed
    checkpoint says so)."""
    return hashlib.sha256(_blob(_aware(_values(event)))).hexdigest()


# --- checkpoints ---------------------------------------------------------------------------


def checkpoint_payload(event_id: int, event_hash: str, legacy_until: int, created_at: Any) -> bytes:
    at = created_at.isoformat(timespec="seconds") if hasattr(created_at, "isoformat") else str(created_at)
    return json.dumps({"v": 1, "event_id": event_id, "hash": event_hash, "legacy_until": legacy_until,
                       "at": at}, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_is_signed(cp: Any) -> bool:
    from core.signing import verify_bytes

    created = cp["created_at"] if isinstance(cp, Mapping) else cp.created_at
    values = cp if isinstance(cp, Mapping) else cp.__dict__
    if getattr(created, "tzinfo", 1) is None:
        from datetime import UTC

        created = created.replace(tzinfo=UTC)
    return verify_bytes(checkpoint_payload(values["event_id"], values["event_hash"], values["legacy_until"], created),
                        values["signature"])


def export_record(cp: AuditCheckpoint) -> dict[str, Any]:
    """One exported checkpoint (a JSON line of `yiyang audit export-checkpoints`)."""
    created = cp.created_at if cp.created_at.tzinfo else cp.created_at.replace(tzinfo=__import__("datetime").UTC)
    return {"id": cp.id, "event_id": cp.event_id, "event_hash": cp.event_hash, "legacy_until": cp.legacy_until,
            "created_at": created.isoformat(timespec="seconds"), "key_fingerprint": cp.key_fingerprint,
            "signature": cp.signature}


def read_exported(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Checkpoints from an export file (JSON lines); created_at parsed back."""
    from datetime import datetime

    found = []
    for line in lines:
        if line.strip():
            record = json.loads(line)
            record["created_at"] = datetime.fromisoformat(record["created_at"])
            found.append(record)
    return found


# --- verification --------------------------------------------------------------------------


@dataclass
class ChainReport:
    """What `yiyang audit verify` found. status: intact | rewritten | truncated | bad_checkpoint."""

    status: str = "intact"
    event_id: int | None = None  # rewritten: the first event that does not verify
    checkpoint_id: int | None = None  # truncated / bad_checkpoint: the checkpoint that shows it
    checked: int = 0
    last_id: int = 0
    last_hash: str = ""
    started_after: int = 0
    legacy_until: int = 0
    unanchored_legacy: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "intact"


def _stream(session: Session, after: int, until: int | None = None) -> Iterator[Mapping[str, Any]]:
    """Events with id > after (and <= until), in id order, as row mappings, BATCH rows at a
    time through a server-side cursor."""
    stmt = select(*COLUMNS).where(AuditEvent.id > after).order_by(AuditEvent.id)  # type: ignore[operator,arg-type]
    if until is not None:
        stmt = stmt.where(AuditEvent.id <= until)  # type: ignore[operator]
    result = session.connection().execute(stmt.execution_options(stream_results=True, yield_per=BATCH))
    try:
        for partition in result.mappings().partitions(BATCH):
            yield from partition
    finally:
        result.close()  # also when the walk stops early: the server-side cursor is released


def _checkpoints(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()  # type: ignore[arg-type]
    return [dict(cp.__dict__) for cp in rows]


def _hash_of(session: Session, event_id: int) -> str | None:
    return session.execute(select(AuditEvent.hash).where(AuditEvent.id == event_id)).scalar()  # type: ignore[arg-type]


def verify(session: Session, *, full: bool = False, exported: list[dict[str, Any]] | None = None,
           key: bytes | None = None) -> ChainReport:
    """Check the chain. Every stored (and exported) checkpoint must be signed by the instance key
    and still match its event; then the events after the latest checkpoint (all of them with
    `full`) are walked, each hash recomputed with the audit key."""
    key = key if key is not None else audit_key()
    report = ChainReport()
    anchors = _checkpoints(session) + list(exported or [])
    head = session.execute(select(func.max(AuditEvent.id))).scalar() or 0
    legacy_until = 0
    for cp in anchors:
        if not checkpoint_is_signed(cp):
            return ChainReport(status="bad_checkpoint", checkpoint_id=cp.get("id"),
                               notes=["检查点签名无效 / checkpoint signature does not verify"])
        legacy_until = max(legacy_until, int(cp["legacy_until"]))
    for cp in sorted(anchors, key=lambda c: c["event_id"]):
        if cp["event_id"] > head:
            return ChainReport(status="truncated", checkpoint_id=cp.get("id"), event_id=cp["event_id"], last_id=head)
        stored = _hash_of(session, cp["event_id"])
        if stored is None:
            return ChainReport(status="truncated", checkpoint_id=cp.get("id"), event_id=cp["event_id"], last_id=head)
        if stored != cp["event_hash"]:
            return ChainReport(status="rewritten", checkpoint_id=cp.get("id"), event_id=cp["event_id"], last_id=head)
    report.legacy_until = legacy_until
    start, prev = 0, ""
    if anchors and not full:
        latest = max(anchors, key=lambda c: c["event_id"])
        start, prev = latest["event_id"], latest["event_hash"]
    report.started_after = start
    legacy_open = not anchors  # before the first checkpoint, an unkeyed prefix is reported, not refused
    with closing(_stream(session, start)) as rows:
        return _walk(rows, report, key, prev, legacy_until, legacy_open)


def _walk(rows: Iterator[Mapping[str, Any]], report: ChainReport, key: bytes, prev: str, legacy_until: int,
          legacy_open: bool) -> ChainReport:
    for row in rows:
        report.checked += 1
        values = dict(row)
        digest = values.pop("hash")
        event_id = values.pop("id")
        good = values["prev_hash"] == prev and hmac.compare_digest(event_digest(values, key), digest)
        if not good and values["prev_hash"] == prev and (event_id <= legacy_until or
                                                         (legacy_open and report.unanchored_legacy == report.checked - 1)):
            good = legacy_digest(values) == digest
            if good and event_id > legacy_until:
                report.unanchored_legacy += 1
        if not good:
            report.status, report.event_id = "rewritten", event_id
            return report
        prev, report.last_id = digest, event_id
    report.last_hash = prev
    if report.unanchored_legacy:
        report.notes.append(f"{report.unanchored_legacy} 条旧版（无密钥）事件尚未被检查点锚定：请运行 yiyang audit checkpoint"
                            f" / {report.unanchored_legacy} unkeyed events of older versions are not anchored yet:"
                            " run yiyang audit checkpoint")
    return report


def create_checkpoint(session: Session, *, full: bool = False) -> tuple[ChainReport, AuditCheckpoint | None]:
    """Verify (incrementally unless `full`) and, when intact, sign the head into a new
    checkpoint. Nothing is written when the chain does not verify."""
    from core.signing import key_fingerprint, sign_bytes

    report = verify(session, full=full)
    if not report.ok:
        return report, None
    if report.last_id == 0:  # nothing new after the latest checkpoint (or an empty log)
        if report.started_after == 0:
            return report, None
        report.last_id = report.started_after
        report.last_hash = _hash_of(session, report.started_after) or ""
    legacy_until = report.legacy_until
    if report.unanchored_legacy:  # an unkeyed prefix from older versions, anchored from now on
        legacy_until = max(legacy_until, _legacy_prefix_end(session, report.unanchored_legacy))
    created = utcnow().replace(microsecond=0)
    signature = sign_bytes(checkpoint_payload(report.last_id, report.last_hash, legacy_until, created))
    checkpoint = AuditCheckpoint(event_id=report.last_id, event_hash=report.last_hash, legacy_until=legacy_until,
                                 created_at=created, key_fingerprint=key_fingerprint(), signature=signature)
    session.add(checkpoint)
    session.flush()
    return report, checkpoint


def _legacy_prefix_end(session: Session, count: int) -> int:
    """Id of the `count`-th event: the end of the unkeyed prefix."""
    return int(session.execute(select(AuditEvent.id).order_by(AuditEvent.id).offset(count - 1).limit(1)).scalar() or 0)  # type: ignore[arg-type]
