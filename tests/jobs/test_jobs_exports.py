"""Large exports: with workers (a Redis queue) an export over YIYANG_EXPORT_INLINE_MAX_ROWS becomes
an `export` job that writes the file to the storage and leaves a notice with the job's page;
without workers the same export streams in the request. The Redis test is skipped, saying why,
when YIYANG_TEST_REDIS_URL is not set or not reachable."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from tests.assessment.test_assessment_exports import world  # noqa: F401  (fixture)
from tests.conftest import api_token, login

REDIS_URL = os.environ.get("YIYANG_TEST_REDIS_URL", "")


def _redis_problem() -> str | None:
    if not REDIS_URL:
        return "set YIYANG_TEST_REDIS_URL to a Redis server"
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 (any failure to reach it is a reason to skip)
        return f"cannot reach Redis at {REDIS_URL}: {type(exc).__name__}"
    return None


@pytest.fixture()
def small_threshold(app: Any) -> Iterator[None]:
    saved = app.config.get("EXPORT_INLINE_MAX_ROWS")
    app.config["EXPORT_INLINE_MAX_ROWS"] = 0  # every export with a row is "large"
    yield
    app.config["EXPORT_INLINE_MAX_ROWS"] = saved


@pytest.fixture()
def workers(app: Any, small_threshold: None) -> Iterator[Any]:
    """The app's queue swapped for a Redis queue of its own name (no other worker takes from it)."""
    problem = _redis_problem()
    if problem:
        pytest.skip(problem)
    from jobs.queue import RedisQueue

    saved_queue, saved_name = app.extensions["yiyang.jobs"], app.config.get("JOBS_QUEUE")
    app.config["JOBS_QUEUE"] = f"yiyang-test-exports-{uuid.uuid4().hex[:10]}"
    queue = RedisQueue(app, REDIS_URL)
    app.extensions["yiyang.jobs"] = queue
    try:
        yield queue
    finally:
        queue.queue.delete(delete_jobs=True)
        app.extensions["yiyang.jobs"], app.config["JOBS_QUEUE"] = saved_queue, saved_name


def test_without_workers_a_large_export_streams_in_the_request(client, db_session, world,  # noqa: F811
                                                               small_threshold):
    from jobs.models import Job

    response = client.get("/api/v1/exports/elders.csv", headers=api_token(client, world["admin"]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert len(response.get_data().decode("utf-8-sig").strip().splitlines()) == 3  # header and two elders
    assert db_session.exec(select(Job).where(Job.kind == "export")).first() is None


def test_with_workers_a_large_export_runs_as_a_job(app, client, db_session, world, workers):  # noqa: F811
    from audit.models import AuditEvent
    from jobs.models import Job, Notice
    from jobs.runner import run_job

    headers = api_token(client, world["admin"])
    answer = client.get("/api/v1/exports/elders.xlsx", query_string={"community": "和平社区"}, headers=headers)
    assert answer.status_code == 202, answer.get_data(as_text=True)[:300]
    job_id = answer.get_json()["id"]
    assert workers.queue.count == 1  # handed to the workers through Redis
    job = db_session.get(Job, job_id)
    assert job.kind == "export" and job.params["filters"] == {"community": "和平社区"}
    assert job.params["unmasked"] is False

    run_job(app, job_id)  # what `yiyang worker` does with the id it takes from the queue
    shown = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert shown["status"] == "finished", shown
    assert shown["result"]["rows"] == 1 and shown["download_url"]
    download = client.get(shown["download_url"], headers=headers)
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.get_data()), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "110105********002X" in rows[1] and "王秀英" in rows[1]
    notice = db_session.exec(select(Notice).where(Notice.user_id == world["admin"].id,
                                                  Notice.category == "export")).one()
    assert notice.link == f"/admin/jobs/{job_id}"
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "export.run")).one()
    assert event.changes["where"] == "job" and event.changes["job_id"] == job_id


def test_with_workers_the_page_button_leads_to_the_job_page(app, client, db_session, world, workers):  # noqa: F811
    login(client, world["assessor1"])
    response = client.get("/api/v1/exports/assessments.csv")
    assert response.status_code == 302 and "/admin/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200  # the user who started the job follows it, administrator or not


def test_unmasked_job_needs_a_reason_like_the_request(client, world, workers):  # noqa: F811
    headers = api_token(client, world["admin"])
    refused = client.get("/api/v1/exports/elders.csv", query_string={"unmasked": "true"}, headers=headers)
    assert refused.status_code == 422 and workers.queue.count == 0
