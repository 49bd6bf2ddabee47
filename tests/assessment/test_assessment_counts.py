"""The statistics' counter of approved assessments (assessment.counts, table stats_assessment_day):
moved by the approval of an assessment and of an amendment, untouched by a return, rebuilt by
`yiyang repair-state`, which reports the drift it finds."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from assessment.counts import rebuild_day_counts
from assessment.models import Assessment, AssessmentDayCount
from core.timeutil import local_today
from tests.assessment.conftest import full_answers
from tests.assessment.test_assessment_workflow import _signed, headers  # noqa: F401  (fixture)
from tests.conftest import TEST_PASSWORD


def _counts(session: Any) -> dict[tuple[int, Any, int], int]:
    session.expire_all()
    return {(r.organisation_id, r.approved_on, r.level_code): r.count
            for r in session.exec(select(AssessmentDayCount)) if r.count}


def _approve(client: Any, headers: dict[str, Any], aid: int) -> None:  # noqa: F811
    approved = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD},
                           headers=headers["reviewer"])
    assert approved.status_code == 200, approved.get_json()


def test_approval_and_amendment_move_the_counter_return_does_not(app, client, headers, elder, gbt, db_session):  # noqa: F811
    aid = _signed(client, headers, elder, gbt)
    assert _counts(db_session) == {}  # signed is not approved yet
    _approve(client, headers, aid)
    first = db_session.get(Assessment, aid)
    with app.app_context():
        key = (first.organisation_id, local_today(), first.level_code)
    assert first.level_code is not None and _counts(db_session) == {key: 1}

    amended = client.post(f"/api/v1/assessments/{aid}/amend", json={"reason": "补录诊断"}, headers=headers["assessor1"])
    assert amended.status_code == 201
    new_id = amended.get_json()["id"]
    assert _counts(db_session) == {key: 1}  # an open amendment changes nothing yet
    client.put(f"/api/v1/assessments/{new_id}/answers", json={"answers": full_answers(gbt), "version": 1},
               headers=headers["assessor1"])
    assert client.post(f"/api/v1/assessments/{new_id}/submit", headers=headers["assessor1"]).status_code == 200
    for who in ("assessor1", "assessor2"):
        signed = client.post(f"/api/v1/assessments/{new_id}/sign", json={"password": TEST_PASSWORD},
                             headers=headers[who])
        assert signed.status_code == 200, signed.get_json()
    _approve(client, headers, new_id)
    assert db_session.get(Assessment, aid).superseded_by_id == new_id
    assert _counts(db_session) == {key: 1}  # the new version replaces the old one: still one

    returned_id = _signed(client, headers, elder, gbt)  # a reassessment, sent back by the reviewer
    returned = client.post(f"/api/v1/assessments/{returned_id}/return", json={"reason": "请复核"},
                           headers=headers["reviewer"])
    assert returned.status_code == 200
    assert _counts(db_session) == {key: 1}
    with app.app_context():
        assert list(rebuild_day_counts(db_session, fix=False)) == []


def test_rebuild_reports_and_fixes_drift(app, client, headers, elder, gbt, db_session):  # noqa: F811
    aid = _signed(client, headers, elder, gbt)
    _approve(client, headers, aid)
    with app.app_context():
        assert list(rebuild_day_counts(db_session, fix=False)) == []
        row = db_session.exec(select(AssessmentDayCount)).one()
        good = row.count
        row.count = good + 5  # a counter gone wrong
        stray = AssessmentDayCount(organisation_id=row.organisation_id, approved_on=row.approved_on,
                                   level_code=row.level_code + 1, count=2)  # a count with no assessment
        db_session.add_all([row, stray])
        db_session.flush()
        drifts = dict(rebuild_day_counts(db_session, fix=False))
        assert sorted(change["count"] for change in drifts.values()) == [(2, 0), (good + 5, good)]
        assert len(dict(rebuild_day_counts(db_session, fix=True))) == 2
        assert list(rebuild_day_counts(db_session, fix=False)) == []
        assert _counts(db_session) == {(row.organisation_id, row.approved_on, row.level_code): good}


def test_repair_state_prints_and_fixes_the_counter(app, client, headers, elder, gbt, db_session, runner):  # noqa: F811
    aid = _signed(client, headers, elder, gbt)
    _approve(client, headers, aid)
    row = db_session.exec(select(AssessmentDayCount)).one()
    key = f"{row.organisation_id}/{row.approved_on.isoformat()}/{row.level_code}"
    row.count += 3
    db_session.add(row)
    db_session.commit()
    result = runner.invoke(args=["repair-state"])
    assert result.exit_code == 1, result.output
    assert f"stats_assessment_day #{key}: count: 4 → 1" in result.output
    again = runner.invoke(args=["repair-state", "--check"])
    assert again.exit_code == 0, again.output
    assert "stats_assessment_day: 0" in again.output
    assert _counts(db_session) == {(row.organisation_id, row.approved_on, row.level_code): 1}
