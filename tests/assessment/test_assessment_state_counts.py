"""The statistics' counters over elder_state (assessment.counts: stats_elder_level per
organisation, instrument and level; stats_elder_due per organisation and due month): moved by
every refresh of an elder's state in the operation's transaction (approval, amendment, a new
assessment under way, a return), rebuilt by `yiyang repair-state`, and moved once when two
transactions refresh one elder at once (the state row's lock)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from assessment.counts import month_of, rebuild_due_counts, rebuild_level_counts
from assessment.models import ElderDueCount, ElderLevelCount, ElderState
from tests.assessment.conftest import full_answers
from tests.assessment.test_assessment_workflow import _signed, headers  # noqa: F401  (fixture)
from tests.conftest import TEST_PASSWORD
from tests.factories import OrganisationFactory, UserFactory, make_id_number
from tests.race import race_app, race_database, seeded, slow_commits, together

GBT = "gbt42195-2022"


def _levels(session: Any) -> dict[tuple[int, str, int], int]:
    session.expire_all()
    return {(r.organisation_id, r.instrument_id, r.level_code): r.count
            for r in session.exec(select(ElderLevelCount)) if r.count}


def _dues(session: Any) -> dict[tuple[int, date], int]:
    session.expire_all()
    return {(r.organisation_id, r.due_month): r.count for r in session.exec(select(ElderDueCount)) if r.count}


def _no_drift(session: Any) -> None:
    assert list(rebuild_level_counts(session, fix=False)) == []
    assert list(rebuild_due_counts(session, fix=False)) == []


def _approve(client: Any, headers: dict[str, Any], aid: int) -> None:  # noqa: F811
    approved = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": TEST_PASSWORD},
                           headers=headers["reviewer"])
    assert approved.status_code == 200, approved.get_json()


def test_the_operations_move_the_level_and_due_counters(app, client, headers, elder, gbt, db_session):  # noqa: F811
    aid = _signed(client, headers, elder, gbt)
    assert _levels(db_session) == {} and _dues(db_session) == {}  # under way: no level, not due
    _approve(client, headers, aid)
    state = db_session.get(ElderState, elder.id)
    level_key = (state.organisation_id, GBT, state.level_code)
    due_key = (state.organisation_id, month_of(state.next_due_on))
    assert state.level_code is not None and _levels(db_session) == {level_key: 1} and _dues(db_session) == {due_key: 1}
    _no_drift(db_session)

    amended = client.post(f"/api/v1/assessments/{aid}/amend", json={"reason": "补录诊断"}, headers=headers["assessor1"])
    assert amended.status_code == 201
    assert _levels(db_session) == {level_key: 1} and _dues(db_session) == {due_key: 1}  # an amendment is not a new visit
    new_id = amended.get_json()["id"]
    client.put(f"/api/v1/assessments/{new_id}/answers", json={"answers": full_answers(gbt), "version": 1},
               headers=headers["assessor1"])
    assert client.post(f"/api/v1/assessments/{new_id}/submit", headers=headers["assessor1"]).status_code == 200
    for who in ("assessor1", "assessor2"):
        assert client.post(f"/api/v1/assessments/{new_id}/sign", json={"password": TEST_PASSWORD},
                           headers=headers[who]).status_code == 200
    _approve(client, headers, new_id)
    assert _levels(db_session) == {level_key: 1} and _dues(db_session) == {due_key: 1}
    _no_drift(db_session)

    again = _signed(client, headers, elder, gbt)  # a reassessment under way: still at its level, no longer due
    assert _levels(db_session) == {level_key: 1} and _dues(db_session) == {}
    returned = client.post(f"/api/v1/assessments/{again}/return", json={"reason": "请复核"}, headers=headers["reviewer"])
    assert returned.status_code == 200
    assert _dues(db_session) == {}  # returned to the assessor: still under way
    _no_drift(db_session)


def test_repair_state_prints_and_fixes_the_elder_counters(app, client, headers, elder, gbt, db_session, runner):  # noqa: F811
    _approve(client, headers, _signed(client, headers, elder, gbt))
    level = db_session.exec(select(ElderLevelCount)).one()
    level.count += 2
    db_session.add(level)
    db_session.add(ElderDueCount(organisation_id=level.organisation_id, due_month=date(2001, 1, 1), count=4))
    db_session.commit()
    result = runner.invoke(args=["repair-state"])
    assert result.exit_code == 1, result.output
    assert f"stats_elder_level #{level.organisation_id}/{GBT}/{level.level_code}: count: 3 → 1" in result.output
    assert f"stats_elder_due #{level.organisation_id}/2001-01-01: count: 4 → 0" in result.output
    again = runner.invoke(args=["repair-state", "--check"])
    assert again.exit_code == 0, again.output
    assert "stats_elder_level: 0" in again.output and "stats_elder_due: 0" in again.output


def _register(app: Any, session: Session, district: Any, assessor: Any) -> Any:
    from assessment import operations as ops
    from core.crypto import FieldCipher

    return ops.register_elder(
        session=session, actor=session.merge(assessor), organisation=session.merge(district),
        data=ops.ElderInput(name="刷新老人", gender="female", birth_date=date(1942, 2, 2),
                            id_number=make_id_number("1942-02-02", 77), phone="13812345678", address="同时路 9 号"),
        cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[district.id])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_refreshes_of_one_elder_at_once_move_its_counts_once(kind, tmp_path, monkeypatch):
    """The elder's stored state is stale (as after a crash between versions); two transactions
    refresh it at once. Without the row lock both would read the same stale row and move its
    counts twice; with it the second waits, reads the first's result and moves nothing."""
    from assessment.state import refresh_elder_state

    with race_database(kind, tmp_path) as url:
        app = race_app(url)
        with seeded(app):
            district = OrganisationFactory(name="刷新竞争区", kind="district")
            assessor = UserFactory(organisation=district, roles="assessor")
        engine = app.extensions["yiyang.engine"]
        with Session(engine) as session, app.test_request_context():
            elder_id = _register(app, session, district, assessor).id  # no assessment: no level, no due date
            session.execute(text("UPDATE elder_state SET level_code = 3, instrument_id = :i, next_due_on = :d "
                                 "WHERE elder_id = :e"), {"i": GBT, "d": date(2020, 5, 5), "e": elder_id})
            session.execute(text("INSERT INTO stats_elder_level (organisation_id, instrument_id, level_code, count) "
                                 "VALUES (:o, :i, 3, 1)"), {"o": district.id, "i": GBT})
            session.execute(text("INSERT INTO stats_elder_due (organisation_id, due_month, count) VALUES (:o, :d, 1)"),
                            {"o": district.id, "d": date(2020, 5, 1)})
            session.commit()

        writing = engine.execution_options(sqlite_begin="IMMEDIATE")  # as a write request's session (core.db)

        def refresh() -> None:
            with Session(writing) as session, app.app_context():
                refresh_elder_state(session, elder_id)
                session.commit()

        with slow_commits(monkeypatch):
            together(refresh, refresh)
        with Session(engine) as session:
            assert _levels(session) == {} and _dues(session) == {}  # the stale counts taken back once
            _no_drift(session)
        engine.dispose()
