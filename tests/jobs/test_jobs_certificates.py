"""certificates.issue as a job: a crash between the steps leaves the certificates issued once
and the retry delivers all of them; a job id handed out twice runs once."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from core.timeutil import utcnow
from jobs import kinds
from jobs.models import Job
from jobs.runner import run_job, submit
from rating import operations as ops
from rating.models import Certificate
from tests.conftest import api_token
from tests.rating.factories import STAR_PASS, FacilityFactory


def _approved(app, session, world, facility):
    with app.test_request_context():
        inspection = ops.start_inspection(session=session, actor=world["inspector"], facility=facility,
                                          scheme="community-star")
        ops.save_answers(session=session, actor=world["inspector"], inspection=inspection, answers=STAR_PASS,
                         version=inspection.version)
        ops.submit_inspection(session=session, actor=world["inspector"], inspection=inspection)
        return ops.approve_inspection(session=session, actor=world["admin"], inspection=inspection)


def test_crash_between_steps_issues_once_and_retry_finishes(app, client, db_session, rating_world, monkeypatch):
    second = FacilityFactory(organisation=rating_world["district1"], name="幸福社区养老服务站", kind="station", beds=8)
    grades = [_approved(app, db_session, rating_world, f) for f in (rating_world["station"], second)]
    assert all(g.code > 0 for g in grades)
    db_session.commit()
    real = kinds.render_pdf
    calls = {"n": 0}

    def crash_once(template, context):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk went away")
        return real(template, context)

    monkeypatch.setattr(kinds, "render_pdf", crash_once)
    headers = api_token(client, rating_world["admin"])
    job_id = client.post("/api/v1/jobs", json={"kind": "certificates.issue"}, headers=headers).get_json()["id"]

    job = db_session.get(Job, job_id)
    db_session.refresh(job)
    # step 1 (issuing) is committed with its checkpoint; step 2 (the ZIP) failed: back in the queue
    assert job.status == "queued" and job.attempts == 1 and "disk went away" in job.error
    issued = db_session.exec(select(Certificate)).all()
    assert sorted(c.id for c in issued) == sorted(job.checkpoint["certificate_ids"])
    assert len(issued) == len(grades)
    assert job.run_after > utcnow()
    assert run_job(app, job_id) is None  # not before its backoff

    job.run_after = utcnow() - timedelta(seconds=1)
    db_session.add(job)
    db_session.commit()
    assert run_job(app, job_id) is None
    db_session.refresh(job)
    assert job.status == "finished" and job.attempts == 2 and job.result == {"issued": len(grades)}
    assert len(db_session.exec(select(Certificate)).all()) == len(grades)  # nothing issued twice
    download = client.get(f"/api/v1/jobs/{job_id}/download", headers=headers)
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert sorted(names) == sorted(f"{c.serial}.pdf" for c in issued)
    assert run_job(app, job_id) is None  # delivered again by the queue: nothing happens
    db_session.refresh(job)
    assert job.attempts == 2


def test_a_job_that_keeps_failing_ends_failed_with_the_reason(app, db_session, rating_world, monkeypatch):
    def broken(_ctx):
        raise RuntimeError("always")

    from jobs.registry import KINDS, Kind

    monkeypatch.setitem(KINDS, "test.broken", Kind("test.broken", broken, "broken", ("admin",), None, 2))
    with app.app_context():
        job = submit(app, db_session, kind="test.broken", params={}, actor=rating_world["admin"])
    for _ in range(2):
        job.run_after = None
        db_session.add(job)
        db_session.commit()
        run_job(app, job.id)
        db_session.refresh(job)
    assert job.status == "failed" and job.attempts == 2 and "always" in job.error


@pytest.mark.parametrize("kind", ["escalate", "audit.verify"])
def test_page_starts_a_job_and_shows_it(app, client, db_session, rating_world, kind):
    from tests.conftest import login

    login(client, rating_world["admin"])
    answer = client.post("/admin/jobs/", data={"kind": kind})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "已完成" in text and 'id="job-progress"' in text
    assert client.get("/admin/jobs/").status_code == 200
    job = db_session.exec(select(Job).order_by(Job.id.desc())).first()
    assert job.kind == kind and job.status == "finished"
    if kind == "audit.verify":
        assert job.result["ok"] is True and job.result["checked"] > 0
        assert job.result["checkpoint_id"] is not None  # the verified head is anchored
