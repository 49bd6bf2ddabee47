"""Running one job: claim the row, run the kind, keep the outcome.

A job's steps each end in a commit that also records how far the job got (`checkpoint`), so a
crash between steps leaves finished steps finished and the retry goes on from there. A failure
puts the job back in the queue after a backoff until `max_attempts`; then it is failed with the
reason kept. Two workers given the same id cannot both run it: the claim is one conditional
UPDATE.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import or_, update
from sqlmodel import Session, col

from core.metrics import note_job_failure
from core.timeutil import utcnow
from jobs.models import Job
from jobs.registry import KINDS, JobFailed

log = logging.getLogger("yiyang.jobs")

BACKOFF_S = (30, 120, 600, 1800, 3600)


@contextmanager
def job_session(app: Flask) -> Iterator[Session]:
    """The session a job uses (the test session when tests provide one)."""
    factory = app.config.get("DB_SESSION_FACTORY")
    if factory:
        yield factory()
        return
    with Session(app.extensions["yiyang.engine"], expire_on_commit=False) as session:
        yield session


class JobContext:
    """What a kind's `run` gets: the session, the row, the parameters, the user who asked."""

    def __init__(self, app: Flask, session: Session, job: Job, actor: Any) -> None:
        self.app, self.session, self.job, self.actor = app, session, job, actor
        self.params: dict[str, Any] = dict(job.params or {})

    @property
    def checkpoint(self) -> dict[str, Any]:
        return dict(self.job.checkpoint or {})

    def save_checkpoint(self, **values: Any) -> None:
        """End a step: what it wrote and how far the job got are committed together."""
        self.job.checkpoint = {**(self.job.checkpoint or {}), **values}
        self.job.heartbeat_at = utcnow()
        self.session.add(self.job)
        self.session.commit()

    def progress(self, fraction: float) -> None:
        """Report progress (0..1); commits, so call it between steps, never inside one."""
        self.job.progress = round(max(0.0, min(1.0, fraction)), 4)
        self.job.heartbeat_at = utcnow()
        self.session.add(self.job)
        self.session.commit()

    def attach(self, name: str, data: bytes, content_type: str) -> None:
        """Keep the job's result file (in the storage, under the job's own key)."""
        from core.storage import get_storage

        key = f"jobs/{self.job.id}/{name}"
        get_storage().put(key, data, content_type)
        self.job.file_key, self.job.file_name, self.job.file_type = key, name, content_type

    def attach_file(self, name: str, path: Any, content_type: str) -> None:
        """Keep a result file written to disk (a large export) without reading it into memory."""
        from core.storage import get_storage

        key = f"jobs/{self.job.id}/{name}"
        get_storage().put_file(key, path, content_type)
        self.job.file_key, self.job.file_name, self.job.file_type = key, name, content_type


def claim(session: Session, job_id: int) -> bool:
    now = utcnow()
    result = session.execute(
        update(Job).where(col(Job.id) == job_id, col(Job.status) == "queued",
                          or_(col(Job.run_after).is_(None), col(Job.run_after) <= now))
        .values(status="started", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now))
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def run_job(app: Flask, job_id: int) -> float | None:
    """Run a queued job once; returns the delay before the next try when it should be retried."""
    from accounts.models import User

    with app.app_context(), job_session(app) as session:
        if not claim(session, job_id):
            return None
        job = session.get(Job, job_id)
        assert job is not None
        session.refresh(job)
        kind = KINDS.get(job.kind)
        if kind is None:
            return _fail(session, job, f"未知的任务类型 {job.kind}")
        actor = session.get(User, job.created_by_id) if job.created_by_id else None
        try:
            result = kind.run(JobContext(app, session, job, actor))
        except JobFailed as exc:
            session.rollback()
            return _fail(session, job, str(exc))
        except Exception as exc:
            session.rollback()
            log.exception("job %s (%s) failed on attempt %s", job_id, job.kind, job.attempts)
            return _retry_or_fail(session, job, f"{type(exc).__name__}: {exc}")
        job.status = "finished"
        job.result = result
        job.progress = 1.0
        job.error = None
        job.finished_at = utcnow()
        session.add(job)
        session.commit()
        return None


def _fail(session: Session, job: Job, message: str) -> None:
    session.refresh(job)
    job.status = "failed"
    job.error = message[:2000]
    job.finished_at = utcnow()
    session.add(job)
    session.commit()
    note_job_failure(job.kind)
    return None


def _retry_or_fail(session: Session, job: Job, message: str) -> float | None:
    session.refresh(job)
    if job.attempts >= job.max_attempts:
        return _fail(session, job, message)
    delay = BACKOFF_S[min(job.attempts - 1, len(BACKOFF_S) - 1)]
    job.status = "queued"
    job.error = message[:2000]
    job.run_after = utcnow() + timedelta(seconds=delay)
    job.enqueued_at = job.run_after  # it is scheduled for then; the sweep waits past that
    session.add(job)
    session.commit()
    return float(delay)


def submit(app: Flask, session: Session, *, kind: str, params: dict[str, Any], actor: Any = None,
           dedupe_key: str | None = None) -> Job:
    """Create the job row, commit it, and hand its id to the queue."""
    spec = KINDS[kind]
    job = Job(kind=kind, params=params, max_attempts=spec.max_attempts, dedupe_key=dedupe_key,
              organisation_id=getattr(actor, "organisation_id", None),
              created_by_id=getattr(actor, "id", None), enqueued_at=utcnow())
    session.add(job)
    session.commit()
    from jobs.queue import enqueue

    enqueue(app, "job", job.id or 0)
    return job
