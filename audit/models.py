"""The audit_event table. The application only ever inserts rows; each row's hash covers its
content and the previous row's hash, so a removed or edited row breaks the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.timeutil import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str | None = Field(default=None, max_length=80)
    roles: str | None = Field(default=None, max_length=200)
    organisation_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    target_type: str | None = Field(default=None, max_length=64)
    target_id: str | None = Field(default=None, max_length=64, index=True)
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=1000)
    client_address: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed anchor of the chain's head: "event `event_id` had hash `event_hash`", signed with
    the instance's Ed25519 key. Rewriting events before it (even recomputing every later hash)
    changes that hash; cutting the log shorter than it leaves it pointing at nothing. Exported
    copies (`yiyang audit export-checkpoints`) keep the anchor when the table itself is cut."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(index=True)
    event_hash: str = Field(max_length=64)
    legacy_until: int = Field(default=0)  # events up to this id carry the unkeyed digest of old versions
    created_at: datetime = Field(default_factory=utcnow)
    key_fingerprint: str = Field(max_length=64)
    signature: str = Field(max_length=200)
