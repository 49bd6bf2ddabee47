"""Grades that pay: the reward table edited through the API and the page (every problem listed,
versioned, audited), shown with the grade on the facility page (and what an unqualified
facility stands to lose), and the totals by district computed here independently."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import select

from accounts.models import Organisation
from audit.models import AuditEvent
from rating import operations as ops
from rating.models import Facility, Grade, GradeReward
from rating.rewards import reward_totals
from tests.conftest import api_token, login
from tests.rating.factories import STAR_FAIL, FacilityFactory

STARS5 = {"facilities": 29, "operations": 28, "services": 38}
STARS4 = {"facilities": 27, "operations": 25, "services": 33}
TODAY = date.today()


def _graded(session: Any, world: dict[str, Any], facility: Facility, answers: dict[str, Any]) -> Grade:
    with world["app"].app_context():
        inspection = ops.start_inspection(session=session, actor=world["inspector"], facility=facility,
                                          scheme="community-star")
        ops.save_answers(session=session, actor=world["inspector"], inspection=inspection, answers=answers,
                         version=inspection.version)
        ops.submit_inspection(session=session, actor=world["inspector"], inspection=inspection)
        return ops.approve_inspection(session=session, actor=world["admin"], inspection=inspection)


def _row(code: int, amount: Any, **extra: Any) -> dict[str, Any]:
    return {"scheme": "community-star", "grade_code": code, "amount": amount, "period": "yearly",
            "valid_from": TODAY.isoformat()} | extra


def test_api_lists_every_problem_at_once(client, rating_world, db_session):
    admin = api_token(client, rating_world["admin"])
    bad = client.put("/api/v1/grade-rewards", headers=admin, json={"rewards": [
        _row(2, "1000"),                                   # community-star has no grade 2
        _row(5, -5),                                       # negative amount
        _row(4, "12.345"),                                 # more than two decimals
        {"scheme": "no-such-scheme", "grade_code": 1, "amount": 1, "period": "yearly", "valid_from": "2026-01-01"},
        _row(3, 100, period="weekly", valid_from="2026-13-01"),
        _row(3, 100, colour="red"),
    ]})
    assert bad.status_code == 422
    items = {e["item"] for e in bad.get_json()["errors"]}
    assert {"rewards[0].grade_code", "rewards[1].amount", "rewards[2].amount", "rewards[3].scheme",
            "rewards[4].period", "rewards[4].valid_from", "rewards[5].colour"} <= items
    assert not db_session.exec(select(GradeReward)).all()  # nothing of a refused table is kept
    english = client.put("/api/v1/grade-rewards", headers=admin | {"Accept-Language": "en"},
                         json={"rewards": [_row(5, -5)]})
    assert english.status_code == 422 and not any("\u4e00" <= c <= "\u9fff" for c in english.get_json()["errors"][0]["message"].replace("五星级", ""))


def test_api_edits_are_versioned_and_audited(client, rating_world, db_session):
    admin = api_token(client, rating_world["admin"])
    empty = client.get("/api/v1/grade-rewards", headers=admin).get_json()
    assert empty["items"] == [] and {g["code"] for g in empty["grades"]["community-star"]} == {0, 3, 4, 5}
    saved = client.put("/api/v1/grade-rewards", headers=admin,
                       json={"rewards": [_row(5, "50000", note="运营经费奖励"), _row(4, 30000)]})
    assert saved.status_code == 200
    five = next(r for r in saved.get_json()["items"] if r["grade_code"] == 5)
    assert five["amount"] == "50000.00" and five["amount_fen"] == 5_000_000 and five["version"] == 1
    again = client.put("/api/v1/grade-rewards", headers=admin, json={"rewards": [_row(5, 60000)]})
    assert again.status_code == 422 and again.get_json()["errors"][0]["item"] == "rewards[0].version"
    edited = client.put("/api/v1/grade-rewards", headers=admin, json={"rewards": [_row(5, 60000, version=1)]})
    assert edited.status_code == 200
    stale = client.put("/api/v1/grade-rewards", headers=admin, json={"rewards": [_row(5, 70000, version=1)]})
    assert stale.status_code == 409
    row = db_session.exec(select(GradeReward).where(GradeReward.grade_code == 5)).one()
    assert row.amount_fen == 6_000_000 and row.version == 2
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.reward.set")).all()
    assert len(events) == 3  # two creations and one edit; the refused ones wrote nothing
    outsider = api_token(client, rating_world["outsider"])
    assert client.delete(f"/api/v1/grade-rewards/{row.id}?version=2", headers=outsider).status_code == 404
    assert client.put("/api/v1/grade-rewards", headers=outsider, json={
        "organisation_id": rating_world["city"].id, "rewards": [_row(5, 1)]}).status_code == 404
    assert client.delete(f"/api/v1/grade-rewards/{row.id}?version=2", headers=admin).status_code == 204
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "rating.reward.delete")).one()
    assert "/grade-rewards" in str(client.get("/api/v1/openapi.json").get_json()["paths"].keys())


def test_page_edits_keep_what_was_typed_and_facility_shows_the_reward(client, rating_world, db_session):
    login(client, rating_world["admin"])
    page = client.get("/rating/rewards?scheme=community-star")
    assert page.status_code == 200 and "这个方案还没有奖补" in page.get_data(as_text=True)
    form = {"csrf_token": "", "amount_5": "-3", "period_5": "yearly", "valid_from_5": "2026-02-30",
            "amount_4": "abc", "period_4": "yearly", "valid_from_4": TODAY.isoformat()}
    bad = client.post("/rating/rewards?scheme=community-star", data=form)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "五星级：金额不能为负数" in html and "四星级：金额应为数字" in html and "五星级：起始日期格式" in html
    assert 'value="-3"' in html and 'value="abc"' in html and 'value="2026-02-30"' in html
    good = client.post("/rating/rewards?scheme=community-star", data={
        "amount_5": "20000", "period_5": "yearly", "valid_from_5": TODAY.isoformat(), "note_5": "九龙坡式运营经费奖励（演示）"})
    assert good.status_code == 302
    grade = _graded(db_session, rating_world, rating_world["station"], STARS5)
    assert grade.code == 5
    login(client, rating_world["inspector"])
    facility = client.get(f"/rating/facilities/{rating_world['station'].id}").get_data(as_text=True)
    assert "20,000.00" in facility and "每年" in facility
    login(client, rating_world["admin"])
    edit_page = client.get("/rating/rewards?scheme=community-star").get_data(as_text=True)
    assert 'name="version_5" value="1"' in edit_page
    edited = client.post("/rating/rewards?scheme=community-star", data={
        "amount_5": "25000", "period_5": "yearly", "valid_from_5": TODAY.isoformat(), "version_5": "1"})
    assert edited.status_code == 302
    stale = client.post("/rating/rewards?scheme=community-star", data={
        "amount_5": "26000", "period_5": "yearly", "valid_from_5": TODAY.isoformat(), "version_5": "1"})
    assert stale.status_code == 409 and 'value="26000"' in stale.get_data(as_text=True)


def test_unqualified_facility_shows_deadline_and_what_it_loses(client, rating_world, db_session):
    admin = api_token(client, rating_world["admin"])
    assert client.put("/api/v1/grade-rewards", headers=admin,
                      json={"rewards": [_row(4, "15000")]}).status_code == 200
    station = rating_world["station"]
    assert _graded(db_session, rating_world, station, STARS4).code == 4
    _graded(db_session, rating_world, station, STAR_FAIL)
    login(client, rating_world["inspector"])
    html = client.get(f"/rating/facilities/{station.id}").get_data(as_text=True)
    assert "评定不合格" in html and "取消服务提供资格" in html
    assert "整改不合格将失去：四星级的奖补 15,000.00 元" in html
    login(client, rating_world["admin"])
    english = client.get(f"/rating/facilities/{station.id}?lang=en")
    text = english.get_data(as_text=True)
    assert "15,000.00" in text and "Four stars" in text and "四星级" not in text  # the scheme's English name


def _expected_totals(session: Any, org_ids: list[int], year: int, today: date) -> dict[tuple[str, str], list[int]]:
    """The totals recomputed plainly, row by row, from every grade and reward row."""
    reference = min(date(year, 12, 31), today)
    end = datetime.combine(reference + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    rewards = session.exec(select(GradeReward)).all()
    paths = {o.id: o.path for o in session.exec(select(Organisation)).all()}

    def price(org_id: int, scheme: str, code: int, day: date, period: str) -> GradeReward | None:
        chain = [int(p) for p in reversed(paths[org_id].strip("/").split("/"))]
        for org in chain:
            mine = [r for r in rewards if (r.organisation_id, r.scheme, r.grade_code, r.period) == (org, scheme, code, period)]
            if mine:
                valid = [r for r in mine if r.valid_from <= day]
                return max(valid, key=lambda r: r.valid_from) if valid else None
        return None

    def aware(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment

    out: dict[tuple[str, str], list[int]] = {}
    for grade in session.exec(select(Grade)).all():
        facility = session.get(Facility, grade.facility_id)
        if facility.organisation_id not in org_ids:
            continue
        superseded, disqualified = aware(grade.superseded_at), aware(facility.disqualified_at)
        if (grade.valid_from <= reference <= grade.valid_until and aware(grade.awarded_at) < end
                and (superseded is None or superseded >= end) and (disqualified is None or disqualified >= end)):
            reward = price(facility.organisation_id, grade.scheme, grade.code, reference, "yearly")
            if reward is not None and reward.amount_fen > 0:
                entry = out.setdefault((facility.district, "yearly"), [0, 0])
                entry[0] += 1
                entry[1] += reward.amount_fen
        if date(year, 1, 1) <= grade.valid_from <= reference:
            reward = price(facility.organisation_id, grade.scheme, grade.code, grade.valid_from, "one_off")
            if reward is not None and reward.amount_fen > 0:
                entry = out.setdefault((facility.district, "one_off"), [0, 0])
                entry[0] += 1
                entry[1] += reward.amount_fen
    return out


def test_totals_by_district_equal_an_independent_count(client, rating_world, db_session):
    world, city = rating_world, rating_world["city"]
    admin = api_token(client, world["admin"])
    # The city pays yearly for four and five stars and once for five stars; district 2 has its own
    # four-star amount, which its facilities use instead of the city's.
    assert client.put("/api/v1/grade-rewards", headers=admin, json={"rewards": [
        _row(5, "50000"), _row(4, "30000"),
        {"scheme": "community-star", "grade_code": 5, "amount": "8000", "period": "one_off",
         "valid_from": (TODAY - timedelta(days=400)).isoformat()},
        _row(3, "0")]}).status_code == 200
    assert client.put("/api/v1/grade-rewards", headers=admin, json={
        "organisation_id": world["district2"].id, "rewards": [_row(4, "12000.50")]}).status_code == 200
    made = []
    for org, district, answers in [(world["district1"], "江北区", STARS5), (world["district1"], "江北区", STARS4),
                                   (world["district2"], "南岸区", STARS4), (world["district2"], "南岸区", STARS5),
                                   (world["district2"], "南岸区", STARS4)]:
        facility = FacilityFactory(organisation=org, kind="station", district=district)
        made.append(_graded(db_session, world, facility, answers))
    lost = db_session.get(Facility, made[-1].facility_id)  # disqualified today: no yearly reward
    lost.is_disqualified, lost.disqualified_at = True, datetime.now(UTC) - timedelta(minutes=1)
    db_session.add(lost)
    db_session.flush()
    orgs = [world["city"].id, world["district1"].id, world["district2"].id]
    expected = _expected_totals(db_session, orgs, TODAY.year, TODAY)
    got = reward_totals(db_session, organisation_ids=orgs, year=TODAY.year)
    assert {(r["district"], r["period"]): [r["facilities"], r["amount_fen"]] for r in got["rows"]} == expected
    assert expected[("江北区", "yearly")] == [2, 5_000_000 + 3_000_000]
    assert expected[("南岸区", "yearly")] == [2, 1_200_050 + 5_000_000]
    assert expected[("江北区", "one_off")] == expected[("南岸区", "one_off")] == [1, 800_000]
    assert got["total_fen"] == sum(v[1] for v in expected.values())
    api = client.get(f"/api/v1/grade-rewards/totals?year={TODAY.year}&organisation_id={city.id}", headers=admin)
    assert api.status_code == 200 and api.get_json()["total_fen"] == got["total_fen"]
    assert client.get("/api/v1/grade-rewards/totals?year=abc", headers=admin).status_code == 422
    login(client, world["admin"])
    page = client.get(f"/rating/rewards?scheme=community-star&year={TODAY.year}").get_data(as_text=True)
    assert "南岸区" in page and f"{got['total_fen'] / 100:,.2f}" in page
    last_year = reward_totals(db_session, organisation_ids=orgs, year=TODAY.year - 1)
    assert last_year["rows"] == []
    stats = client.get("/stats").get_data(as_text=True)  # the statistics page, by district unit
    rewards = stats[stats.index('id="rewards"'):]
    one, two = 5_000_000 + 3_000_000 + 800_000, 1_200_050 + 5_000_000 + 800_000  # yearly + one-off per district
    assert one + two == got["total_fen"]
    assert f"<td>测试一区</td><td class=\"num\">{8_000_000 / 100:,.2f}</td>" in rewards
    assert f"{one / 100:,.2f}" in rewards and f"{two / 100:,.2f}" in rewards
