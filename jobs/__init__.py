"""Background jobs, schedules, notifications and webhooks (docs/jobs.md).

`init_app(app)` sets up the file storage and the queue; the kinds register themselves on
import: the built-in ones in `jobs.kinds`, and any package's own in its `jobs` module
(`assessment/jobs.py`, `rating/jobs.py`, …), so adding a kind is one `@register(...)`.
"""

from __future__ import annotations

import importlib

from flask import Flask

KIND_MODULES = ["jobs.kinds", "jobs.exports"]
PACKAGES = ("accounts", "assessment", "rating", "audit", "instruments", "reports", "imports")


def load_kinds() -> None:
    for module in KIND_MODULES:
        importlib.import_module(module)
    for package in PACKAGES:
        try:
            importlib.import_module(f"{package}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.jobs"):
                raise


def init_app(app: Flask) -> None:
    from core import storage
    from core.metrics import register_job_source
    from jobs import events, queue

    load_kinds()
    storage.init_app(app)
    queue.init_app(app)
    assert events.EVENTS  # the after-commit hook is installed on import

    def unread_notices() -> int:
        from jobs.views import unread_count

        return unread_count()

    app.jinja_env.globals["unread_notices"] = unread_notices
    register_job_source(job_counts)


def job_counts() -> list[tuple[str, int, int]]:
    """(kind, queued, failed) from the job table, for /metrics: the same figures on every server."""
    from flask import has_request_context
    from sqlalchemy import func
    from sqlmodel import select

    from core.db import get_session

    if not has_request_context():  # read at a /metrics scrape only, with the request's session
        return []
    from jobs.models import Job

    counts: dict[str, list[int]] = {}
    rows = get_session().exec(select(Job.kind, Job.status, func.count())
                              .where(Job.status.in_(("queued", "failed")))  # type: ignore[attr-defined]
                              .group_by(Job.kind, Job.status))
    for kind, status, n in rows:
        counts.setdefault(kind, [0, 0])[0 if status == "queued" else 1] += n
    return [(kind, queued, failed) for kind, (queued, failed) in sorted(counts.items())]
