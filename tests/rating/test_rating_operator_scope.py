"""A care operator's account sees only the facilities it runs: their approved inspections, their
corrective actions and certificates, in lists, detail pages, PDFs and the API, and submits evidence
only there. Everything else is a 404 (a list simply does not contain it)."""

from __future__ import annotations

from typing import Any

from tests.conftest import api_token, login
from tests.factories import OrganisationFactory, UserFactory
from tests.rating.factories import STAR_FAIL, STAR_PASS, FacilityFactory


def _inspect(client: Any, headers: dict[str, str], facility_id: int, answers: dict[str, Any]) -> dict[str, Any]:
    started = client.post("/api/v1/inspections", headers=headers,
                          json={"facility_id": facility_id, "scheme": "community-star"})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    saved = client.put(f"/api/v1/inspections/{body['id']}/answers", headers=headers,
                       json={"answers": answers, "version": body["version"]})
    assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/api/v1/inspections/{body['id']}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    return submitted.get_json()


def _certified(client: Any, inspector: dict[str, str], admin: dict[str, str], facility_id: int) -> int:
    inspection = _inspect(client, inspector, facility_id, STAR_PASS)
    assert client.post(f"/api/v1/inspections/{inspection['id']}/approve", headers=admin).status_code == 200
    cert = client.post("/api/v1/certificates", json={"inspection_id": inspection["id"]}, headers=admin)
    assert cert.status_code == 201, cert.get_json()
    return int(cert.get_json()["id"])


def _world(client: Any, rating_world: dict[str, Any]) -> dict[str, Any]:
    operator_org = OrganisationFactory(name="康乐运营公司", kind="operator", parent=rating_world["district2"])
    station = rating_world["station"]
    station.operator_organisation_id = operator_org.id
    neighbour = FacilityFactory(organisation=rating_world["district2"], name="隔壁养老院", kind="station", beds=10)
    inspector = api_token(client, rating_world["inspector"])
    admin = api_token(client, rating_world["admin"])
    own_cert = _certified(client, inspector, admin, station.id)
    other_cert = _certified(client, inspector, admin, neighbour.id)
    own = _inspect(client, inspector, station.id, STAR_FAIL)["actions"]
    other = _inspect(client, inspector, neighbour.id, STAR_FAIL)["actions"]
    assert own and other
    return {"operator": UserFactory(organisation=operator_org, roles="operator"), "station": station,
            "neighbour": neighbour, "own": [a["id"] for a in own], "other": [a["id"] for a in other],
            "own_cert": own_cert, "other_cert": other_cert}


def test_operator_api_sees_and_works_only_on_its_own_facilities(client, rating_world):
    world = _world(client, rating_world)
    op = api_token(client, world["operator"])
    listed = {a["id"] for a in client.get("/api/v1/actions?which=all", headers=op).get_json()["items"]}
    assert listed == set(world["own"])
    facilities = client.get("/api/v1/facilities", headers=op).get_json()["items"]
    assert [f["id"] for f in facilities] == [world["station"].id]
    inspections = client.get("/api/v1/inspections", headers=op).get_json()["items"]
    assert inspections and {i["facility_id"] for i in inspections} == {world["station"].id}
    assert all(i["status"] == "approved" for i in inspections)  # not the work in progress
    certificates = client.get("/api/v1/certificates", headers=op).get_json()["items"]
    assert [c["id"] for c in certificates] == [world["own_cert"]]
    grades = client.get("/api/v1/grades", headers=op).get_json()["items"]
    assert {g["facility_id"] for g in grades} == {world["station"].id}

    mine, theirs = world["own"][0], world["other"][0]
    assert client.get(f"/api/v1/actions/{mine}", headers=op).status_code == 200
    assert client.get(f"/api/v1/actions/{theirs}", headers=op).status_code == 404
    assert client.post(f"/api/v1/actions/{theirs}/evidence", headers=op, json={"note": "越权"}).status_code == 404
    sent = client.post(f"/api/v1/actions/{mine}/evidence", headers=op, json={"note": "已更换灭火器"})
    assert sent.status_code == 200 and sent.get_json()["status"] == "evidence_submitted"
    assert client.get(f"/api/v1/facilities/{world['neighbour'].id}", headers=op).status_code == 404
    assert client.get(f"/api/v1/facilities/{world['station'].id}", headers=op).status_code == 200
    assert client.get(f"/api/v1/certificates/{world['other_cert']}", headers=op).status_code == 404
    assert client.get(f"/api/v1/certificates/{world['other_cert']}/pdf", headers=op).status_code == 404
    pdf = client.get(f"/api/v1/certificates/{world['own_cert']}/pdf", headers=op)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_operator_pages_show_only_its_own_facilities(client, rating_world):
    world = _world(client, rating_world)
    login(client, world["operator"])
    page = client.get("/rating/actions?which=all").get_data(as_text=True)
    assert "和平社区养老服务站" in page and "隔壁养老院" not in page
    mine, theirs = world["own"][0], world["other"][0]
    assert client.get(f"/rating/actions/{mine}").status_code == 200
    assert client.get(f"/rating/actions/{theirs}").status_code == 404
    assert client.post(f"/rating/actions/{theirs}/evidence", data={"note": "越权"}).status_code == 404
    assert client.get(f"/rating/certificates/{world['own_cert']}").status_code == 200
    assert client.get(f"/rating/certificates/{world['other_cert']}").status_code == 404
    assert client.get(f"/rating/certificates/{world['other_cert']}/pdf").status_code == 404
    assert client.get(f"/rating/certificates/{world['own_cert']}/pdf").mimetype == "application/pdf"
    home = client.get("/").get_data(as_text=True)
    assert "隔壁养老院" not in home


def test_an_operator_account_in_a_district_sees_none_of_the_districts_own_records(client, rating_world):
    """An operator role held by someone placed in a district does not open the district's records:
    operator accounts see the facilities run by their organisation or one below it (here the
    station's operator company), never an organisation's subtree of records."""
    world = _world(client, rating_world)
    misplaced = UserFactory(organisation=rating_world["district2"], roles="operator")
    op = api_token(client, misplaced)
    seen = {a["id"] for a in client.get("/api/v1/actions?which=all", headers=op).get_json()["items"]}
    assert seen == set(world["own"])
    assert [f["id"] for f in client.get("/api/v1/facilities", headers=op).get_json()["items"]] == [world["station"].id]
    assert client.get(f"/api/v1/actions/{world['other'][0]}", headers=op).status_code == 404
    elsewhere = UserFactory(organisation=rating_world["district1"], roles="operator")
    nothing = api_token(client, elsewhere)
    assert client.get("/api/v1/actions?which=all", headers=nothing).get_json()["items"] == []
    assert client.get(f"/api/v1/actions/{world['own'][0]}", headers=nothing).status_code == 404
    # Someone who is both inspector and operator keeps the inspector's view.
    both = UserFactory(organisation=rating_world["district2"], roles="inspector operator")
    seen = {a["id"] for a in client.get("/api/v1/actions?which=all", headers=api_token(client, both))
            .get_json()["items"]}
    assert set(world["own"]) | set(world["other"]) <= seen
