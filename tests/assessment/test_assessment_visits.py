"""The visit record: the pure plausibility checks (assessment.visit_checks), the device reports
through the API (merged, resend-safe, audited once, scoped), the elder's optional coordinates,
and the reviewer's page with its warnings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from assessment.visit_checks import (
    VisitPolicy,
    VisitSummary,
    distance_m,
    parse_working_hours,
    visit_warnings,
)
from tests.assessment.conftest import full_answers
from tests.conftest import api_token, login

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIANANMEN = (39.9087, 116.3975)
POLICY = VisitPolicy(min_seconds_per_item=5, min_items_checked=10, max_distance_m=1000,
                     working_hours=(time(7, 0), time(20, 0)))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def summary(**changes: Any) -> VisitSummary:
    base = dict(started_at=at(9), ended_at=at(9, 40), active_seconds=35 * 60, items_answered=60,
                location=(TIANANMEN[0], TIANANMEN[1], 20.0), location_status="granted")
    return VisitSummary(**{**base, **changes})


def codes(s: VisitSummary, home: tuple[float, float] | None = TIANANMEN, policy: VisitPolicy = POLICY) -> list[str]:
    return [w.code for w in visit_warnings(s, policy=policy, elder_location=home, tz=SHANGHAI)]


def test_a_plausible_visit_has_no_warning():
    assert codes(summary()) == []


def test_sixty_items_in_two_minutes_is_too_fast_and_the_threshold_is_the_setting():
    fast = summary(active_seconds=120)
    [warning] = visit_warnings(fast, policy=POLICY, elder_location=TIANANMEN, tz=SHANGHAI)
    assert warning.code == "too_fast" and warning.values == {"items": 60, "minutes": 2.0, "seconds_per_item": 5}
    assert codes(summary(active_seconds=300)) == []  # exactly 5 s an item is enough
    assert codes(summary(active_seconds=299)) == ["too_fast"]
    assert codes(fast, policy=VisitPolicy(min_seconds_per_item=1.5)) == []
    assert codes(summary(active_seconds=10, items_answered=9)) == []  # too few answers to judge a pace


def test_far_from_the_address_only_when_both_positions_are_known_and_beyond_accuracy():
    far = (39.9087 + 0.02, 116.3975, 30.0)  # about 2.2 km north
    assert 2100 < distance_m(far[:2], TIANANMEN) < 2300
    [warning] = visit_warnings(summary(location=far), policy=POLICY, elder_location=TIANANMEN, tz=SHANGHAI)
    assert warning.code == "far_away" and warning.values["km"] == 2.2
    assert codes(summary(location=far), home=None) == []  # the elder's coordinates are unknown
    assert codes(summary(location=None, location_status="denied")) == []  # a refusal is no warning
    coarse = (far[0], far[1], 1500.0)  # the fix itself is only good to 1.5 km
    assert codes(summary(location=coarse)) == []


def test_outside_working_hours_in_local_time_and_can_be_turned_off():
    late = summary(started_at=at(21, 5), ended_at=at(21, 50))
    [warning] = visit_warnings(late, policy=POLICY, elder_location=TIANANMEN, tz=SHANGHAI)
    assert warning.code == "off_hours" and warning.values["time"] == "21:05"
    assert codes(summary(started_at=at(6, 30))) == ["off_hours"]
    assert codes(summary(started_at=at(7, 0), ended_at=at(20, 0))) == []
    assert codes(late, policy=VisitPolicy(working_hours=None)) == []
    assert parse_working_hours("off") is None and parse_working_hours("08:30-17:30") == (time(8, 30), time(17, 30))
    with pytest.raises(ValueError):
        parse_working_hours("20:00-07:00")


def test_several_warnings_come_in_a_fixed_order():
    bad = summary(active_seconds=60, location=(40.5, 116.3975, 10.0), started_at=at(23))
    assert codes(bad) == ["too_fast", "far_away", "off_hours"]


# --- through the API and the pages --------------------------------------------------------


@pytest.fixture()
def draft(app, db_session, people, elder, gbt) -> Any:
    from assessment import operations as ops

    with app.test_request_context():
        return ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder, definition=gbt,
                                    reason="initial")


def report(gbt, client_id="v-1", minutes=(3, 4), location=None, start=None) -> dict[str, Any]:
    start = start or datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    body: dict[str, Any] = {"client_id": client_id, "started_at": start.isoformat(),
                            "ended_at": (start + timedelta(minutes=sum(minutes))).isoformat(),
                            "sections": {s.id: m * 60 for s, m in zip(gbt.sections, minutes, strict=False)}}
    if location is not None:
        body["location"] = location
    return body


def test_visit_reports_merge_resend_safely_and_are_audited_once(client, db_session, people, draft, gbt):
    from assessment.models import AssessmentVisit
    from audit.models import AuditEvent

    headers = api_token(client, people["assessor1"])
    url = f"/api/v1/assessments/{draft.id}/visit"
    first = client.post(url, json=report(gbt, minutes=(3, 4), location={"status": "denied"}), headers=headers)
    assert first.status_code == 200, first.get_json()
    later = report(gbt, minutes=(5, 4), location={"status": "granted", "latitude": 39.9, "longitude": 116.4,
                                                  "accuracy": 25})
    assert client.post(url, json=later, headers=headers).status_code == 200
    stale = report(gbt, minutes=(1, 1), location={"status": "denied"})  # an older report arriving late
    assert client.post(url, json=stale, headers=headers).status_code == 200
    record = db_session.exec(select(AssessmentVisit)).one()
    assert record.section_seconds == {gbt.sections[0].id: 300.0, gbt.sections[1].id: 240.0}
    assert record.location_status == "granted" and record.accuracy_m == 25 and record.latitude == 39.9
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.visit.start")).all()
    assert len(events) == 1 and events[0].changes["new"]["location"] == "denied"


def test_the_end_of_a_visit_keeps_its_own_location_the_latest_position_or_the_refusal(client, db_session, people,
                                                                                    draft, gbt):
    from assessment.models import AssessmentVisit

    headers = api_token(client, people["assessor1"])
    url = f"/api/v1/assessments/{draft.id}/visit"
    start = {"status": "granted", "latitude": 39.9, "longitude": 116.4, "accuracy": 20}
    refused = report(gbt, location=start) | {"end_location": {"status": "denied"}}
    assert client.post(url, json=refused, headers=headers).get_json()["end_location_status"] == "denied"

    def end(lat: float, minute: int) -> dict[str, Any]:
        return {"status": "granted", "latitude": lat, "longitude": 116.4, "accuracy": 12,
                "at": datetime(2026, 3, 2, 1, minute, tzinfo=UTC).isoformat()}

    assert client.post(url, json=report(gbt, location=start) | {"end_location": end(39.95, 40)},
                       headers=headers).status_code == 200
    late = report(gbt, location=start) | {"end_location": end(39.91, 20)}  # an earlier position arriving late
    assert client.post(url, json=late, headers=headers).status_code == 200
    again = report(gbt, location=start) | {"end_location": {"status": "unavailable"}}
    assert client.post(url, json=again, headers=headers).status_code == 200
    record = db_session.exec(select(AssessmentVisit)).one()
    assert (record.location_status, record.latitude) == ("granted", 39.9)
    assert (record.end_location_status, record.end_latitude, record.end_accuracy_m) == ("granted", 39.95, 12)
    bad = report(gbt) | {"end_location": {"status": "granted", "latitude": 91, "longitude": 0, "where": 1}}
    answer = client.post(url, json=bad, headers=headers)
    assert answer.status_code == 422 and {e["item"] for e in answer.get_json()["errors"]} == {"end_location"}


def test_bad_visit_reports_list_every_problem_and_others_get_404(client, people, draft, gbt):
    headers = api_token(client, people["assessor1"])
    url = f"/api/v1/assessments/{draft.id}/visit"
    bad = {"client_id": "bad id!", "started_at": "2026-03-02T09:00:00", "ended_at": "yesterday",
           "sections": {"nope": 5}, "location": {"status": "granted", "latitude": 300, "longitude": 0}}
    answer = client.post(url, json=bad, headers=headers)
    assert answer.status_code == 422
    assert {e["item"] for e in answer.get_json()["errors"]} == {"started_at", "ended_at"}
    bad.update(started_at="2026-03-02T09:00:00+08:00", ended_at="2026-03-02T08:00:00+08:00")
    answer = client.post(url, json=bad, headers=headers)
    assert {e["item"] for e in answer.get_json()["errors"]} == {"client_id", "ended_at", "sections", "location"}
    outsider = api_token(client, people["outsider"])
    assert client.post(url, json=report(gbt), headers=outsider).status_code == 404


def test_elder_coordinates_are_optional_both_or_neither_and_in_range(client, people):
    from tests.assessment.conftest import OTHER_ID_NUMBER

    headers = api_token(client, people["assessor1"])
    elder = {"name": "李建国", "gender": "male", "birth_date": "1880-01-01", "id_number": OTHER_ID_NUMBER}
    half = client.post("/api/v1/elders", json={**elder, "latitude": 39.9}, headers=headers)
    assert half.status_code == 422 and [e["item"] for e in half.get_json()["errors"]] == ["longitude"]
    wrong = client.post("/api/v1/elders", json={**elder, "latitude": 95, "longitude": "x"}, headers=headers)
    assert {e["item"] for e in wrong.get_json()["errors"]} == {"latitude", "longitude"}
    made = client.post("/api/v1/elders", json={**elder, "latitude": 39.9087, "longitude": 116.3975}, headers=headers)
    assert made.status_code == 201 and made.get_json()["latitude"] == 39.9087
    plain = client.post("/api/v1/elders", json={**elder, "id_number": "11010519491231002X", "name": "无坐标",
                                                "birth_date": "1949-12-31", "latitude": None}, headers=headers)
    assert plain.status_code == 201 and plain.get_json()["latitude"] is None


def test_reviewer_sees_the_visit_and_its_warnings(app, client, db_session, people, draft, gbt, elder):
    from assessment import operations as ops

    elder.latitude, elder.longitude = TIANANMEN
    db_session.add(elder)
    db_session.flush()
    headers = api_token(client, people["assessor1"])
    far = {"status": "granted", "latitude": TIANANMEN[0] + 0.05, "longitude": TIANANMEN[1], "accuracy": 15}
    sent = client.post(f"/api/v1/assessments/{draft.id}/visit", json=report(gbt, minutes=(1, 1), location=far),
                       headers=headers)
    assert sent.status_code == 200
    with app.test_request_context():
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=draft, definition=gbt,
                         answers=full_answers(gbt), version=draft.version)
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=draft, definition=gbt)
    login(client, people["reviewer"])
    page = client.get(f"/assessments/{draft.id}").get_data(as_text=True)
    assert 'id="visit-warnings"' in page and "用时过短" in page and "位置偏远" in page and "5.6" in page
    assert "开始时位置" in page and "结束时位置" in page and "未记录位置" in page  # no end was reported
    english = client.get(f"/assessments/{draft.id}?lang=en").get_data(as_text=True)
    assert "Too fast" in english and "用时过短" not in english


def test_the_fill_page_reports_through_its_own_route_and_a_lapsed_login_is_a_redirect(app, client, db_session,
                                                                                        people, draft, gbt):
    from assessment.models import AssessmentVisit

    url = f"/assessments/{draft.id}/visit"
    anonymous = client.post(url, json=report(gbt))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, people["assessor1"])
    page = client.get(f"/assessments/{draft.id}/fill?section={gbt.sections[0].id}").get_data(as_text=True)
    assert f'data-url="{url}"' in page and "js/visit.js" in page
    sent = client.post(url, json=report(gbt, client_id="v-page", location={"status": "unsupported"}))
    assert sent.status_code == 200 and sent.get_json()["location_status"] == "unsupported"
    bad = client.post(url, json={"client_id": "v-page"})
    assert bad.status_code == 422 and {e["item"] for e in bad.get_json()["errors"]} == {"started_at", "ended_at"}
    assert db_session.exec(select(AssessmentVisit)).one().client_id == "v-page"
