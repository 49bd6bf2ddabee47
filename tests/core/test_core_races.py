"""Races with real threads against a real database (a SQLite file and PostgreSQL): two saves of
the same version of a record — exactly one wins, the other gets 409 with the current version,
nothing is lost; eight clients saving different records at once never fail; a unique row
created twice at once is a 409, never a 500 or 503."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from assessment.models import Assessment, Elder, Entitlement
from rating.models import Facility, Inspection
from tests.factories import OrganisationFactory, UserFactory, make_id_number
from tests.race import (
    race_app,
    race_database,
    seeded,
    signed_in_api,
    signed_in_browser,
    slow_commits,
    together,
)
from tests.rating.factories import FacilityFactory

GBT = "gbt42195-2022"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A committed database with one district, its people and a facility."""
    with race_database(request.param, tmp_path_factory.mktemp("race")) as url:
        app = race_app(url)
        with seeded(app):
            district = OrganisationFactory(name="竞争测试区", kind="district")
            people = {
                "assessors": [UserFactory(organisation=district, roles="assessor") for _ in range(8)],
                "admins": [UserFactory(organisation=district, roles="admin inspector") for _ in range(2)],
            }
            facility = FacilityFactory(organisation=district, name="竞争养老院")
        yield {"app": app, "kind": request.param, "district": district, "facility_id": facility.id, **people}
        app.extensions["yiyang.engine"].dispose()


def _fresh(world: dict[str, Any]) -> Session:
    return Session(world["app"].extensions["yiyang.engine"])


_SERIAL = iter(range(100, 999))


def _elder(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    body = {"name": "竞争老人", "gender": "female", "birth_date": "1941-03-03",
            "id_number": make_id_number("1941-03-03", next(_SERIAL)), "address": "同时路 1 号"}
    response = client.post("/api/v1/elders", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _draft(client: Any, headers: dict[str, str]) -> int:
    elder = _elder(client, headers)
    created = client.post("/api/v1/assessments", headers=headers, json={"elder_id": elder["id"], "instrument": GBT})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def _choice_item(app: Any) -> tuple[str, Any, Any]:
    definition = app.extensions["yiyang.definitions"][GBT]
    item = next(i for i in definition.items.values() if i.type == "single_choice" and len(i.options) > 1)
    return item.id, item.options[0].value, item.options[-1].value


def _one_won(statuses: list[int], success: int) -> None:
    assert sorted(statuses) == sorted([success, 409]), statuses


def test_assessment_answers_two_saves_of_one_version(world, monkeypatch):
    app = world["app"]
    (one, h1), (two, h2) = (signed_in_api(app, u) for u in world["assessors"][:2])
    aid = _draft(one, h1)
    item, first, last = _choice_item(app)
    url = f"/api/v1/assessments/{aid}/answers"
    with slow_commits(monkeypatch):
        answers = together(lambda: one.put(url, headers=h1, json={"answers": {item: first}, "version": 1}),
                           lambda: two.put(url, headers=h2, json={"answers": {item: last}, "version": 1}))
    _one_won([a.status_code for a in answers], 200)
    won = next(a for a in answers if a.status_code == 200)
    lost = next(a for a in answers if a.status_code == 409).get_json()
    with _fresh(world) as db:
        stored = db.get(Assessment, aid)
        assert stored.version == 2 and stored.answers == won.get_json().get("answers", stored.answers)
        assert lost["version"] == 2 and lost["answers"] == stored.answers  # the server's answers, to merge


def test_inspection_answers_two_saves_of_one_version(world, monkeypatch):
    """The lost update: a version checked in Python then `+= 1` let both writers win on PostgreSQL."""
    app = world["app"]
    (one, h1), (two, h2) = (signed_in_api(app, u) for u in world["admins"])
    started = one.post("/api/v1/inspections", headers=h1,
                       json={"facility_id": world["facility_id"], "scheme": "gbt37276-2018"})
    assert started.status_code == 201, started.get_json()
    iid, version = started.get_json()["id"], started.get_json()["version"]
    url = f"/api/v1/inspections/{iid}/answers"
    with slow_commits(monkeypatch):
        answers = together(
            lambda: one.put(url, headers=h1, json={"answers": {"environment": 90}, "version": version}),
            lambda: two.put(url, headers=h2, json={"answers": {"environment": 10}, "version": version}))
    _one_won([a.status_code for a in answers], 200)
    winner = 90 if answers[0].status_code == 200 else 10
    lost = next(a for a in answers if a.status_code == 409).get_json()
    with _fresh(world) as db:
        stored = db.get(Inspection, iid)
        assert stored.version == version + 1 and stored.answers == {"environment": winner}
    assert lost["version"] == version + 1 and lost["answers"] == {"environment": winner}


def test_elder_edits_two_saves_of_one_version(world, monkeypatch):
    app = world["app"]
    api, headers = signed_in_api(app, world["assessors"][0])
    elder = _elder(api, headers)
    browsers = [signed_in_browser(app, u) for u in world["assessors"][:2]]
    form = {"name": "竞争老人", "gender": "female", "birth_date": "1941-03-03", "id_number": "", "phone": "",
            "community": "", "contact_name": "", "contact_phone": "", "legal_basis": "statutory",
            "consent_by": "", "consent_at": "", "organisation_id": str(world["district"].id), "version": "1"}
    url = f"/elders/{elder['id']}/edit"
    with slow_commits(monkeypatch):
        answers = together(lambda: browsers[0].post(url, data={**form, "address": "甲地址"}),
                           lambda: browsers[1].post(url, data={**form, "address": "乙地址"}))
    _one_won([a.status_code for a in answers], 302)
    with _fresh(world) as db:
        stored = db.get(Elder, elder["id"])
        assert stored.version == 2 and stored.address == ("甲地址" if answers[0].status_code == 302 else "乙地址")


def test_facility_edits_two_saves_of_one_version(world, monkeypatch):
    app = world["app"]
    browsers = [signed_in_browser(app, u) for u in world["admins"]]
    with _fresh(world) as db:
        facility = db.get(Facility, world["facility_id"])
        version = facility.version
        form = {"name": facility.name, "kind": facility.kind, "district": facility.district,
                "address": facility.address, "operator": "", "filing_status": facility.filing_status,
                "opened_on": facility.opened_on.isoformat(), "version": str(version)}
    url = f"/rating/facilities/{world['facility_id']}/edit"
    with slow_commits(monkeypatch):
        answers = together(lambda: browsers[0].post(url, data={**form, "beds": "111"}),
                           lambda: browsers[1].post(url, data={**form, "beds": "222"}))
    _one_won([a.status_code for a in answers], 302)
    with _fresh(world) as db:
        stored = db.get(Facility, world["facility_id"])
        assert stored.version == version + 1 and stored.beds == (111 if answers[0].status_code == 302 else 222)


def test_eight_clients_saving_different_records_never_fail(world):
    """The small office: eight tablets autosaving their own assessments at once (SQLite took a
    deferred read lock, then lost the race for the write lock: 503)."""
    app = world["app"]
    clients = [signed_in_api(app, u) for u in world["assessors"]]
    drafts = [_draft(c, h) for c, h in clients]
    item, first, last = _choice_item(app)

    def autosave(client: Any, headers: dict[str, str], aid: int) -> list[int]:
        statuses, version = [], 1
        for n in range(6):
            response = client.put(f"/api/v1/assessments/{aid}/answers", headers=headers,
                                  json={"answers": {item: first if n % 2 else last}, "version": version})
            statuses.append(response.status_code)
            version = response.get_json().get("version", version)
        return statuses

    results = together(*(lambda c=c, h=h, a=a: autosave(c, h, a) for (c, h), a in zip(clients, drafts, strict=True)))
    assert all(status == 200 for statuses in results for status in statuses), results
    with _fresh(world) as db:
        assert {db.get(Assessment, a).version for a in drafts} == {7}


def test_one_unique_row_created_twice_at_once_is_a_conflict_not_a_crash(world, monkeypatch):
    app = world["app"]
    browsers = [signed_in_browser(app, u) for u in world["admins"]]
    form = {"instrument": "barthel", "services_1": "助餐", "subsidy_1": "100", "note_1": ""}
    with slow_commits(monkeypatch):
        answers = together(*(lambda b=b: b.post("/assessments/entitlements", data=form) for b in browsers))
    statuses = [a.status_code for a in answers]
    assert 302 in statuses and set(statuses) <= {302, 409}, statuses
    with _fresh(world) as db:
        rows = db.exec(select(func.count()).select_from(Entitlement).where(
            Entitlement.organisation_id == world["district"].id, Entitlement.instrument_id == "barthel",
            Entitlement.level_code == 1)).one()
    assert rows == 1


def test_one_idempotency_key_sent_twice_at_once_applies_once(world, monkeypatch):
    app = world["app"]
    user = world["assessors"][3]
    (one, h1), (two, h2) = signed_in_api(app, user), signed_in_api(app, user)
    body = {"name": "重发老人", "gender": "male", "birth_date": "1939-09-09",
            "id_number": make_id_number("1939-09-09", 7), "address": "重发路 2 号"}
    with slow_commits(monkeypatch):
        answers = together(*(lambda c=c, h=h: c.post("/api/v1/elders", json=body,
                                                     headers={**h, "Idempotency-Key": "both-at-once"})
                             for c, h in ((one, h1), (two, h2))))
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([201, 201], [201, 409]), statuses
    with _fresh(world) as db:
        assert db.exec(select(func.count()).select_from(Elder).where(Elder.name == "重发老人")).one() == 1


def test_one_elder_registered_twice_at_once_is_a_conflict_not_a_crash(world, monkeypatch):
    """Two assessors register the same person (same ID number) at once, without an
    Idempotency-Key: one 201, one 409 with a Chinese message; one elder row."""
    app = world["app"]
    (one, h1), (two, h2) = signed_in_api(app, world["assessors"][4]), signed_in_api(app, world["assessors"][5])
    body = {"name": "同时登记老人", "gender": "female", "birth_date": "1938-08-08",
            "id_number": make_id_number("1938-08-08", 11), "address": "同时路 9 号"}
    with slow_commits(monkeypatch):
        answers = together(*(lambda c=c, h=h: c.post("/api/v1/elders", json=body, headers=h)
                             for c, h in ((one, h1), (two, h2))))
    _one_won([a.status_code for a in answers], 201)
    refused = next(a for a in answers if a.status_code == 409).get_json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused["message"])
    with _fresh(world) as db:
        assert db.exec(select(func.count()).select_from(Elder).where(Elder.name == "同时登记老人")).one() == 1
