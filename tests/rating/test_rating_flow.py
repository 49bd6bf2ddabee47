"""From checklist to certificate through the API: GB/T 37276 level 4, community stars below 60
through overdue actions and re-inspection to disqualification."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.timeutil import utcnow
from rating.models import CorrectiveAction, Facility, Inspection
from tests.conftest import api_token
from tests.rating.factories import GBT_LEVEL4, STAR_FAIL, pdf_text


def _start(client, headers, facility_id, scheme):
    response = client.post("/api/v1/inspections", json={"facility_id": facility_id, "scheme": scheme}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "in_progress" and isinstance(body["version"], int)
    return body


def test_gbt37276_checklist_to_level4_certificate(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    admin = api_token(client, rating_world["admin"])
    created = client.post("/api/v1/facilities", headers=inspector, json={
        "name": "金色年华养老中心", "kind": "institution", "district": "测试一区", "address": "长寿路 8 号",
        "beds": 200, "opened_on": "2018-05-01"})
    assert created.status_code == 201, created.get_json()
    facility_id = created.get_json()["id"]
    inspection = _start(client, inspector, facility_id, "gbt37276-2018")

    saved = client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=inspector,
                       json={"answers": GBT_LEVEL4, "facts": {"veto": []}, "version": inspection["version"]})
    assert saved.status_code == 200, saved.get_json()
    version = saved.get_json()["version"]
    assert version == inspection["version"] + 1

    submitted = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector)
    assert submitted.status_code == 200, submitted.get_json()
    body = submitted.get_json()
    assert body["status"] == "submitted"
    assert body["result"]["grade"]["code"] == 4
    assert any("四级" in step for step in body["result"]["explanation"])
    # A double submit is harmless.
    again = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector)
    assert again.status_code == 200 and again.get_json()["result"] == body["result"]

    assert client.post(f"/api/v1/inspections/{inspection['id']}/approve", headers=inspector).status_code == 403
    grade = client.post(f"/api/v1/inspections/{inspection['id']}/approve", headers=admin).get_json()
    assert grade["code"] == 4 and grade["status"] == "active"
    assert grade["valid_until"] > grade["valid_from"]

    cert = client.post("/api/v1/certificates", json={"inspection_id": inspection["id"]}, headers=admin)
    assert cert.status_code == 201, cert.get_json()
    cert = cert.get_json()
    assert cert["serial"] and cert["verify_url"].startswith("http") and cert["valid_until"] == grade["valid_until"]
    assert cert["status"] == "valid"
    again = client.post("/api/v1/certificates", json={"inspection_id": inspection["id"]}, headers=admin)
    assert again.status_code == 200 and again.get_json()["id"] == cert["id"]

    pdf = client.get(f"/api/v1/certificates/{cert['id']}/pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "金色年华养老中心" in text and "四级" in text and "证书编号" in text

    code = cert["verify_url"].rsplit("/", 1)[1]
    verified = client.get(f"/verify/{code}", headers={"Accept": "application/json"})
    assert verified.status_code == 200
    assert verified.get_json()["status"] == "valid" and verified.get_json()["facility"] == "金色年华养老中心"
    page = client.get(cert["qr_url"].split("localhost", 1)[-1].replace("http://127.0.0.1:5000", ""))
    assert page.status_code == 200 and "有效" in page.get_data(as_text=True)

    facility = client.get(f"/api/v1/facilities/{facility_id}", headers=admin).get_json()
    assert facility["current_grade"]["code"] == 4 and len(facility["grade_history"]) == 1


def test_operating_under_a_year_vetoes_automatically(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    opened = (utcnow() - timedelta(days=100)).date().isoformat()
    facility_id = client.post("/api/v1/facilities", headers=inspector, json={
        "name": "新开张养老院", "kind": "institution", "district": "测试一区", "address": "新路 1 号",
        "beds": 50, "opened_on": opened}).get_json()["id"]
    inspection = _start(client, inspector, facility_id, "gbt37276-2018")
    assert "operating_under_1y" in inspection["known_facts"]["veto"]
    client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=inspector,
               json={"answers": GBT_LEVEL4, "version": inspection["version"]})
    result = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector).get_json()["result"]
    assert result["vetoed"] is True and result["grade"]["code"] == 0
    assert [v["code"] for v in result["vetoes"]] == ["operating_under_1y"]


def test_stale_version_is_a_conflict(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    inspection = _start(client, inspector, rating_world["home"].id, "gbt37276-2018")
    url = f"/api/v1/inspections/{inspection['id']}/answers"
    first = client.put(url, headers=inspector, json={"answers": {"environment": 90}, "version": inspection["version"]})
    assert first.status_code == 200
    stale = client.put(url, headers=inspector, json={"answers": {"environment": 10}, "version": inspection["version"]})
    assert stale.status_code == 409
    kept = client.get(f"/api/v1/inspections/{inspection['id']}", headers=inspector).get_json()
    assert kept["answers"] == {"environment": 90}


def test_submit_lists_every_problem(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    inspection = _start(client, inspector, rating_world["home"].id, "gbt37276-2018")
    client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=inspector,
               json={"answers": {"environment": 500}, "version": inspection["version"]})
    response = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector)
    assert response.status_code == 422
    items = {e["item"] for e in response.get_json()["errors"]}
    assert "environment" in items and len(items) >= 2


def test_community_below_60_to_disqualification(client, rating_world, db_session):
    inspector = api_token(client, rating_world["inspector"])
    station = rating_world["station"]
    inspection = _start(client, inspector, station.id, "community-star")
    client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=inspector,
               json={"answers": STAR_FAIL, "notes": {"facilities.F3": "二楼灭火器过期"}, "version": inspection["version"]})
    body = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector).get_json()
    assert body["result"]["unqualified"] is True
    actions = body["actions"]
    assert actions and all({"id", "severity", "due_at", "status"} <= a.keys() for a in actions)
    by_item = {a["item"]: a for a in actions}
    submitted_at = utcnow()
    # deadlines follow severity: critical 7 days, major 30, minor 60 (the scheme's setting)
    from datetime import datetime

    def days(action):
        return round((datetime.fromisoformat(action["due_at"]) - submitted_at).total_seconds() / 86400)

    assert days(by_item["facilities.F3"]) == 7 and by_item["facilities.F3"]["severity"] == "critical"
    assert "灭火器过期" in by_item["facilities.F3"]["description"]
    assert days(by_item["facilities.F1"]) == 30 and days(by_item["facilities.F5"]) == 60
    rectification = by_item[None]
    assert days(rectification) == 30 and rectification["status"] == "open"

    # The notice PDF names the facility and the result.
    notice = client.get(f"/api/v1/inspections/{inspection['id']}/notice.pdf", headers=inspector)
    text = pdf_text(notice.data)
    assert "和平社区养老服务站" in text and "整改通知书" in text and "不评星" in text

    # Too early to re-inspect.
    assert client.post(f"/api/v1/inspections/{inspection['id']}/reinspection", headers=inspector).status_code == 422

    # Time passes: every deadline is behind us.
    for action in db_session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection["id"])):
        action.due_at = utcnow() - timedelta(days=1)
        db_session.add(action)
    row = db_session.get(Inspection, inspection["id"])
    row.rectification_due_at = utcnow() - timedelta(days=1)
    db_session.add(row)
    db_session.flush()
    overdue = client.get("/api/v1/actions?which=overdue", headers=inspector).get_json()["actions"]
    assert {a["id"] for a in overdue} == {a["id"] for a in actions}
    assert all(a["status"] == "overdue" for a in overdue)

    from rating.operations import escalate_overdue

    escalated = escalate_overdue(session=db_session, actor=rating_world["admin"],
                                 organisation_ids=[rating_world["district2"].id])
    assert len(escalated) == len(actions)
    assert client.get(f"/api/v1/actions/{actions[0]['id']}", headers=inspector).get_json()["status"] == "escalated"

    again = client.post(f"/api/v1/inspections/{inspection['id']}/reinspection", headers=inspector)
    assert again.status_code == 201, again.get_json()
    second = again.get_json()
    assert second["is_reinspection"] and second["previous_inspection_id"] == inspection["id"]
    client.put(f"/api/v1/inspections/{second['id']}/answers", headers=inspector,
               json={"answers": {"facilities": 15, "operations": 15, "services": 20}, "version": second["version"]})
    result = client.post(f"/api/v1/inspections/{second['id']}/submit", headers=inspector).get_json()
    assert result["result"]["unqualified"] is True
    facility = client.get(f"/api/v1/facilities/{station.id}", headers=inspector).get_json()
    assert facility["is_disqualified"] is True and "取消服务提供资格" in facility["disqualified_reason"]
    assert db_session.get(Facility, station.id).is_disqualified
    # A disqualified facility is not inspected again.
    assert client.post("/api/v1/inspections", headers=inspector,
                       json={"facility_id": station.id, "scheme": "community-star"}).status_code == 422


def test_evidence_and_verification(client, rating_world):
    from tests.factories import UserFactory

    operator_org = rating_world["other"]
    operator = UserFactory(organisation=operator_org, roles="operator")
    station = rating_world["station"]
    station.operator_organisation_id = operator_org.id
    inspector = api_token(client, rating_world["inspector"])
    inspection = _start(client, inspector, station.id, "community-star")
    client.put(f"/api/v1/inspections/{inspection['id']}/answers", headers=inspector,
               json={"answers": STAR_FAIL, "version": inspection["version"]})
    actions = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=inspector).get_json()["actions"]
    action_id = actions[0]["id"]
    op = api_token(client, operator)
    assert client.post(f"/api/v1/actions/{action_id}/verify", headers=inspector, json={}).status_code == 409
    sent = client.post(f"/api/v1/actions/{action_id}/evidence", headers=op, json={"note": "已更换灭火器"})
    assert sent.status_code == 200 and sent.get_json()["status"] == "evidence_submitted"
    assert client.post(f"/api/v1/actions/{action_id}/verify", headers=op).status_code == 403
    done = client.post(f"/api/v1/actions/{action_id}/verify", headers=inspector, json={"accept": True})
    assert done.status_code == 200 and done.get_json()["status"] == "closed"
    assert client.get(f"/api/v1/inspections/{inspection['id']}", headers=op).status_code == 403
