"""Tables of the shared infrastructure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import utcnow


class IdempotentRequest(SQLModel, table=True):
    """The answer to a POST sent with an Idempotency-Key: a retry gets the same answer instead
    of creating a second record (a tablet on a bad network resends)."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    key: str = Field(max_length=100)
    method: str = Field(max_length=8)
    path: str = Field(max_length=300)
    status: int  # 0 while the request runs (uncommitted), then the answer's HTTP status
    body: str
    fingerprint: str = Field(default="", max_length=64)  # SHA-256 of method, path and body
    created_at: datetime = Field(default_factory=utcnow, index=True)
