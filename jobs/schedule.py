"""`yiyang scheduler`: daily jobs at configured times, and the sweep that finds lost work.

Schedules (local time, Asia/Shanghai; HH:MM; `off` disables one):

    YIYANG_SCHEDULE_ESCALATE=01:30   YIYANG_SCHEDULE_REMINDERS=08:00   YIYANG_SCHEDULE_AUDIT_VERIFY=03:00
    YIYANG_SCHEDULE_IMPORT_SWEEP=04:30 (deletes import uploads never confirmed: imports.uploads)

Each run is a job whose dedupe key names the kind and the day, so several schedulers (one per
server, say) start it once. A scheduler started after the time of day runs that day's job at
once. The sweep re-queues jobs and webhook deliveries whose time has come but which no queue
holds any more (a restarted laptop process, a lost Redis), and jobs whose worker died.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from core.timeutil import utcnow

log = logging.getLogger("yiyang.scheduler")

SCHEDULES = {
    "escalate": ("SCHEDULE_ESCALATE", "01:30"),
    "reminders": ("SCHEDULE_REMINDERS", "08:00"),
    "audit.verify": ("SCHEDULE_AUDIT_VERIFY", "03:00"),
    "imports.sweep": ("SCHEDULE_IMPORT_SWEEP", "04:30"),
}
LOCAL = ZoneInfo("Asia/Shanghai")
REQUEUE_AFTER = timedelta(minutes=5)
LEASE = timedelta(minutes=30)


def schedule_times(app: Flask) -> dict[str, tuple[int, int] | None]:
    """Each scheduled kind's time of day, None when switched off; a bad value stops here."""
    from core.config import ConfigError

    times: dict[str, tuple[int, int] | None] = {}
    for kind, (key, default) in SCHEDULES.items():
        raw = str(app.config.get(key) or os.environ.get(f"YIYANG_{key}") or default).strip()
        if raw.lower() in ("off", "none", "-"):
            times[kind] = None
            continue
        try:
            hour, minute = (int(x) for x in raw.split(":"))
            if not (0 <= hour < 24 and 0 <= minute < 60):
                raise ValueError
        except ValueError:
            raise ConfigError(f"YIYANG_{key} 应为 HH:MM（如 08:00）或 off，而不是 {raw!r}") from None
        times[kind] = (hour, minute)
    return times


def due_runs(app: Flask, now: datetime) -> list[tuple[str, str]]:
    """(kind, dedupe key) of every schedule whose time today has passed."""
    local = now.astimezone(LOCAL)
    runs = []
    for kind, at in schedule_times(app).items():
        if at is not None and (local.hour, local.minute) >= at:
            runs.append((kind, f"schedule:{kind}:{local.date().isoformat()}"))
    return runs


def tick(app: Flask, now: datetime | None = None) -> list[int]:
    """Start what is due and sweep; the ids of the jobs started."""
    from jobs.models import Job
    from jobs.runner import job_session, submit

    now = now or utcnow()
    started = []
    with app.app_context(), job_session(app) as session:
        for kind, key in due_runs(app, now):
            exists = session.exec(select(Job.id).where(Job.dedupe_key == key)).first() is not None
            session.rollback()  # no read stays open while the queue's thread writes (SQLite)
            if exists:
                continue
            try:
                job = submit(app, session, kind=kind, params={}, actor=None, dedupe_key=key)
            except IntegrityError:  # another scheduler was first
                session.rollback()
                continue
            log.info("scheduled %s: job %s", kind, job.id)
            started.append(job.id or 0)
        sweep(app, session, now)
    return started


def sweep(app: Flask, session: Any, now: datetime) -> int:
    """Queue again what should be running and is not; returns how many were queued.

    Each row is taken with its own conditional UPDATE in a short transaction (no read kept open
    while the background thread writes: SQLite would refuse the upgrade), and two schedulers
    sweeping at once queue a row once."""
    from jobs.models import Job, WebhookDelivery
    from jobs.queue import enqueue

    lost = list(session.exec(select(Job.id).where(
        Job.status == "started", or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < now - LEASE))))
    session.rollback()
    for ident in lost:
        for status, more in (("queued", col(Job.attempts) < col(Job.max_attempts)),
                             ("failed", col(Job.attempts) >= col(Job.max_attempts))):
            session.execute(update(Job).where(col(Job.id) == ident, Job.status == "started", more)
                            .values(status=status, run_after=now,
                                    error="执行任务的进程已中断 / the worker running it stopped"))
        session.commit()
    stale = now - REQUEUE_AFTER
    count = 0
    waiting_jobs = list(session.exec(select(Job.id).where(
        Job.status == "queued", or_(col(Job.run_after).is_(None), col(Job.run_after) <= now),
        or_(col(Job.enqueued_at).is_(None), col(Job.enqueued_at) < stale))))
    waiting_deliveries = list(session.exec(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
        or_(col(WebhookDelivery.enqueued_at).is_(None), col(WebhookDelivery.enqueued_at) < stale))))
    session.rollback()
    for model, task, ids, ready in (
            (Job, "job", waiting_jobs, col(Job.status) == "queued"),
            (WebhookDelivery, "webhook", waiting_deliveries, col(WebhookDelivery.status) == "pending")):
        for ident in ids:
            taken = session.execute(update(model).where(
                col(model.id) == ident, ready,
                or_(col(model.enqueued_at).is_(None), col(model.enqueued_at) < stale)).values(enqueued_at=now))
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                enqueue(app, task, ident)
                count += 1
    return count


def run_forever(app: Flask, interval_s: float = 30.0, stop_after_s: float | None = None) -> None:
    """The scheduler loop (`yiyang scheduler`)."""
    schedule_times(app)  # a bad time stops the scheduler at start, not at 8 in the morning
    deadline = time.monotonic() + stop_after_s if stop_after_s else None
    while deadline is None or time.monotonic() < deadline:
        try:
            tick(app)
        except Exception:  # the database may be away for a moment; try again next round
            log.exception("scheduler round failed")
        time.sleep(interval_s if deadline is None else max(0.0, min(interval_s, deadline - time.monotonic())))
