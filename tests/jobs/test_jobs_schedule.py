"""The scheduler: configured times, one run per day however many schedulers, the sweep that
finds work a dead worker or a lost queue left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.config import ConfigError
from core.timeutil import utcnow
from jobs.models import Job
from jobs.schedule import due_runs, schedule_times, sweep, tick


def test_schedule_times_come_from_configuration(app):
    app.config.update(SCHEDULE_ESCALATE="02:15", SCHEDULE_REMINDERS="off")
    try:
        assert schedule_times(app) == {"escalate": (2, 15), "reminders": None, "audit.verify": (3, 0),
                                       "imports.sweep": (4, 30)}
        # 19:00 UTC is 03:00 the next day in Shanghai: escalation and the audit check are due
        runs = due_runs(app, datetime(2026, 3, 1, 19, 0, tzinfo=UTC))
        assert runs == [("escalate", "schedule:escalate:2026-03-02"), ("audit.verify", "schedule:audit.verify:2026-03-02")]
        assert due_runs(app, datetime(2026, 3, 1, 18, 0, tzinfo=UTC)) == []
        app.config["SCHEDULE_ESCALATE"] = "25:00"
        with pytest.raises(ConfigError, match="YIYANG_SCHEDULE_ESCALATE"):
            schedule_times(app)
    finally:
        for key in ("SCHEDULE_ESCALATE", "SCHEDULE_REMINDERS"):
            app.config.pop(key, None)


def test_tick_starts_each_daily_job_once(app, db_session, org_tree):
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: all four are due
    first = tick(app, now)
    app.extensions["yiyang.jobs"].drain()
    assert len(first) == 4
    assert tick(app, now + timedelta(minutes=1)) == []  # a second scheduler, or the next round
    jobs = db_session.exec(select(Job).order_by(Job.id)).all()
    kinds = ("escalate", "reminders", "audit.verify", "imports.sweep")
    assert [j.kind for j in jobs] == list(kinds)
    assert all(j.status == "finished" for j in jobs), [(j.kind, j.error) for j in jobs]
    assert {j.dedupe_key for j in jobs} == {f"schedule:{k}:2026-03-02" for k in kinds}


def test_sweep_requeues_work_left_behind(app, db_session, org_tree):
    now = utcnow()
    lost = Job(kind="audit.verify", params={}, status="started", attempts=1, heartbeat_at=now - timedelta(hours=2))
    waiting = Job(kind="audit.verify", params={}, status="queued", enqueued_at=now - timedelta(hours=1))
    fresh = Job(kind="audit.verify", params={}, status="queued", enqueued_at=now)
    db_session.add_all([lost, waiting, fresh])
    db_session.commit()
    queue = app.extensions["yiyang.jobs"]
    with app.app_context():
        assert sweep(app, db_session, now) == 2  # the lost one and the waiting one; not the fresh one
    assert sorted(ident for _, ident in queue.pending) == sorted([lost.id, waiting.id])
    queue.drain()
    for job in (lost, waiting, fresh):
        db_session.refresh(job)
    assert lost.status == waiting.status == "finished" and fresh.status == "queued"
    assert lost.attempts == 2


def test_a_package_adds_a_kind_with_one_registration(tmp_path, monkeypatch):
    import jobs
    from jobs.registry import KINDS

    package = tmp_path / "yiyang_fake_exports"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text(
        "from jobs.registry import register\n\n"
        "@register('exports.fake', title='导出', roles=('admin',))\n"
        "def run(ctx):\n    return {'rows': 0}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(jobs, "PACKAGES", ("yiyang_fake_exports", "no_such_package"))
    monkeypatch.delitem(KINDS, "exports.fake", raising=False)
    jobs.load_kinds()
    try:
        assert KINDS["exports.fake"].roles == ("admin",)
    finally:
        KINDS.pop("exports.fake", None)
