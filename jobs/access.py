"""Who may see a job, a subscription or a delivery."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlmodel import Session, col, or_, select

from accounts.queries import visible_org_ids
from core.db import valid_id
from jobs.models import Job


def can_see_job(session: Session, user: Any, job: Job) -> bool:
    if job.created_by_id is not None and job.created_by_id == user.id:
        return True
    if not user.has_role("admin"):
        return False
    return job.organisation_id is None or job.organisation_id in visible_org_ids(session, user)


def job_or_404(session: Session, job_id: Any, user: Any) -> Job:
    key = valid_id(job_id)
    job = session.get(Job, key) if key is not None else None
    if job is None or not can_see_job(session, user, job):
        abort(404)
    return job


def visible_jobs(session: Session, user: Any, limit: int = 200) -> list[Job]:
    stmt = select(Job)
    if user.has_role("admin"):
        stmt = stmt.where(or_(col(Job.organisation_id).is_(None),
                              col(Job.organisation_id).in_(visible_org_ids(session, user)),
                              Job.created_by_id == user.id))
    else:
        stmt = stmt.where(Job.created_by_id == user.id)
    return list(session.exec(stmt.order_by(col(Job.id).desc()).limit(limit)))


def scoped_or_404(session: Session, model: Any, object_id: Any, user: Any) -> Any:
    key = valid_id(object_id)
    row = session.get(model, key) if key is not None else None
    if row is None or row.organisation_id not in visible_org_ids(session, user):
        abort(404)
    return row
