"""Paged rating lists (filters, cursors), the facility state kept by the operations, and the
overdue escalation in one statement."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from audit.models import AuditEvent
from core.timeutil import utcnow
from rating import operations as ops
from rating.models import CorrectiveAction, FacilityState
from rating.state import rebuild_states
from tests.conftest import api_token
from tests.rating.factories import STAR_FAIL, FacilityFactory


def _failed_inspection(db, world, facility):
    inspection = ops.start_inspection(session=db, actor=world["inspector"], facility=facility, scheme="community-star")
    ops.save_answers(session=db, actor=world["inspector"], inspection=inspection, answers=STAR_FAIL,
                     version=inspection.version)
    ops.submit_inspection(session=db, actor=world["inspector"], inspection=inspection)
    return inspection


def test_facility_state_and_one_statement_escalation(app, db_session, rating_world):
    station = rating_world["station"]
    with app.test_request_context():
        inspection = _failed_inspection(db_session, rating_world, station)
        state = db_session.get(FacilityState, station.id)
        open_actions = db_session.exec(select(CorrectiveAction).where(CorrectiveAction.facility_id == station.id)).all()
        assert state.inspection_count == 1 and state.open_action_count == len(open_actions) > 1
        grade = ops.approve_inspection(session=db_session, actor=rating_world["admin"], inspection=inspection)
        assert state.grade_id == grade.id and state.grade_code == grade.code
        for action in open_actions:
            action.due_at = utcnow() - timedelta(days=1)
            db_session.add(action)
        db_session.flush()
        before = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.action.escalate")).all()
        done = ops.escalate_overdue(session=db_session, actor=rating_world["admin"],
                                    organisation_ids=[rating_world["district2"].id])
        assert sorted(done) == sorted(a.id for a in open_actions if a.status == "escalated")
        assert len(done) == len([a for a in open_actions])
        events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.action.escalate")).all()
        assert len(events) - len(before) == len(done)
        assert {e.target_id for e in events[len(before):]} == {str(i) for i in done}
        assert ops.escalate_overdue(session=db_session, actor=None, organisation_ids=[rating_world["district2"].id]) == []
        # (the factory-made facilities never went through an operation, so only the station has a row)
        assert [d for d in rebuild_states(db_session, fix=False) if d.row_id == station.id] == []


def test_rating_lists_page_and_filter(app, db_session, rating_world, client):
    for n in range(7):
        FacilityFactory(organisation=rating_world["district1"], name=f"翻页机构{n}", kind="station", district="一区")
    FacilityFactory(organisation=rating_world["district2"], name="100%_机构", district="二区")
    with app.test_request_context():
        _failed_inspection(db_session, rating_world, rating_world["station"])
    db_session.commit()
    admin = api_token(client, rating_world["admin"])

    def walk(url):
        seen, cursor = [], None
        while True:
            body = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=admin).get_json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return seen

    everything = walk("/api/v1/facilities?limit=3")
    assert len(everything) == len(set(everything)) == 10
    names = {i["id"]: i["name"] for i in client.get("/api/v1/facilities?limit=500", headers=admin).get_json()["items"]}
    assert [names[i] for i in everything] == sorted(names[i] for i in everything)
    assert [names[i] for i in walk("/api/v1/facilities?q=100%25_&limit=5")] == ["100%_机构"]
    assert len(walk("/api/v1/facilities?district=一区&kind=station&limit=5")) == 7
    assert len(walk(f"/api/v1/facilities?org={rating_world['district2'].id}&limit=5")) == 2
    actions = walk("/api/v1/actions?which=open&limit=2")
    assert actions and actions == walk(f"/api/v1/actions?which=all&facility={rating_world['station'].id}&limit=2")
    assert walk("/api/v1/actions?which=closed&limit=2") == []
    assert len(walk("/api/v1/inspections?status=submitted&limit=1")) == 1
    assert walk("/api/v1/inspections?status=approved&limit=1") == []
    assert walk("/api/v1/grades?limit=5") == [] and walk("/api/v1/certificates?limit=5") == []
    bad = client.get("/api/v1/actions?which=later", headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["item"] == "which"
    outsider = api_token(client, rating_world["outsider"])
    assert client.get("/api/v1/facilities", headers=outsider).get_json()["items"] == []
    from tests.conftest import login

    login(client, rating_world["admin"])
    page = client.get("/rating/facilities?limit=4").get_data(as_text=True)
    assert "共 10 条" in page and 'rel="next"' in page
    assert client.get("/rating/actions?which=overdue").status_code == 200
    assert client.get("/rating/inspections?status=nope").status_code == 422
    assert client.get("/rating/certificates").status_code == 200


def _graded(db, world, facility, code):
    """A facility with a current grade written straight to the tables, and its state row."""
    from datetime import date

    from rating.models import Grade, Inspection
    from rating.state import refresh_facility_state

    inspection = Inspection(organisation_id=facility.organisation_id, facility_id=facility.id,
                            scheme="gbt37276-2018", scheme_version="1", status="approved",
                            created_by_id=world["admin"].id)
    db.add(inspection)
    db.flush()
    db.add(Grade(organisation_id=facility.organisation_id, facility_id=facility.id, inspection_id=inspection.id,
                 scheme="gbt37276-2018", scheme_version="1", code=code, label=f"{code}级", stars=code,
                 valid_from=date.today(), valid_until=date.today() + timedelta(days=365)))
    db.flush()
    refresh_facility_state(db, facility.id)


def test_facility_and_grade_lists_cost_the_same_queries_for_any_page_size(app, db_session, rating_world, client):
    from tests.statements import statements_per_page

    for n in range(12):
        facility = FacilityFactory(organisation=rating_world["district1"], name=f"计数机构{n:02d}")
        _graded(db_session, rating_world, facility, 1 + n % 5)
    db_session.commit()
    admin = api_token(client, rating_world["admin"])
    client.get("/api/v1/facilities?limit=1", headers=admin)  # the token's first use is written once
    for url in ("/api/v1/facilities?q=计数机构", "/api/v1/grades?current=1"):
        small = statements_per_page(client, db_session, f"{url}&limit=2", admin)
        large = statements_per_page(client, db_session, f"{url}&limit=12", admin)
        assert small == large, f"{url}: {small} statements for 2 rows, {large} for 12"
    body = client.get("/api/v1/facilities?q=计数机构&limit=12", headers=admin).get_json()
    assert [(i["name"], i["current_grade"]["code"]) for i in body["items"]] == [
        (f"计数机构{n:02d}", 1 + n % 5) for n in range(12)]
    grades = client.get("/api/v1/grades?current=1&limit=50", headers=admin).get_json()["items"]
    assert {g["code"] for g in grades} >= {1, 2, 3, 4, 5} and all(g["status"] == "active" for g in grades)
