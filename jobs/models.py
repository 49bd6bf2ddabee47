"""Tables of background work: jobs, in-app notices, webhook subscriptions and deliveries.

A row is the truth about a piece of work; the queue (Redis or in-process) only carries ids.
Whoever takes an id claims the row with one conditional UPDATE, so an id delivered twice runs
once, and a row whose worker died is found again by the scheduler's sweep.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.i18n import N_
from core.timeutil import utcnow

JOB_STATUSES = {
    "queued": N_("排队中"),
    "started": N_("进行中"),
    "finished": N_("已完成"),
    "failed": N_("失败"),
}

DELIVERY_STATUSES = {
    "pending": N_("待发送"),
    "delivered": N_("已送达"),
    "failed": N_("失败"),
}


class Job(SQLModel, table=True):
    """One run of a job kind: what was asked, how far it got, what came out."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=16, index=True)
    progress: float = Field(default=0.0)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=2000)
    # What finished steps left for the next ones (written in the same commit as the step).
    checkpoint: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    file_key: str | None = Field(default=None, max_length=300)
    file_name: str | None = Field(default=None, max_length=200)
    file_type: str | None = Field(default=None, max_length=100)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=3)
    run_after: datetime | None = None
    enqueued_at: datetime | None = None
    # A schedule slot or another natural key: the same work is never queued twice.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None


class Notice(SQLModel, table=True):
    """An in-app notice; one per user, subject and day, so a daily run never repeats itself."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("user_id", "subject", "sent_on", name="uq_notice_subject_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    subject: str = Field(max_length=120)
    sent_on: date
    category: str = Field(max_length=32)
    text: str = Field(max_length=500)
    link: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    emailed_at: datetime | None = None
    pushed_at: datetime | None = None


class WebhookSubscription(SQLModel, table=True):
    """Another system's URL and the events it wants; the secret signs every delivery."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    url: str = Field(max_length=500)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_encrypted: str = Field(max_length=500)
    is_active: bool = Field(default=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription, written in the transaction that caused the event
    (an outbox): it is sent only after that commit, retried with backoff for a day, logged."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    event: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    enqueued_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
