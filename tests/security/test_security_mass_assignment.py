"""Forms and API bodies bind only whitelisted fields: an assessor cannot set a level, a status,
an organisation or a signature; downloads of personal data are logged."""

from __future__ import annotations

from sqlmodel import select

from assessment.models import Assessment
from audit.models import AuditEvent
from tests.assessment.conftest import full_answers
from tests.conftest import api_token
from tests.factories import make_id_number


def test_api_refuses_fields_it_does_not_bind(client, people, elder, gbt, db_session):
    headers = api_token(client, people["assessor1"])
    sneaky = client.post("/api/v1/assessments", headers=headers, json={
        "elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "initial",
        "status": "approved", "level": {"code": 0}, "organisation_id": people["other"].id})
    assert sneaky.status_code == 422
    assert {e["item"] for e in sneaky.get_json()["errors"]} >= {"status", "level", "organisation_id"}

    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "initial"}).get_json()
    save = client.put(f"/api/v1/assessments/{created['id']}/answers", headers=headers, json={
        "answers": full_answers(gbt), "version": created["version"], "result": {"level": {"code": 0}},
        "signatures": [{"user_id": people["reviewer"].id}]})
    assert save.status_code == 422
    sign = client.post(f"/api/v1/assessments/{created['id']}/sign", headers=headers,
                       json={"password": "x", "role": "reviewer"})
    assert sign.status_code == 422
    db_session.expire_all()
    stored = db_session.get(Assessment, created["id"])
    assert stored.status == "draft" and stored.result is None


def test_elder_cannot_be_registered_into_another_organisation(client, people):
    headers = api_token(client, people["assessor1"])
    response = client.post("/api/v1/elders", headers=headers, json={
        "name": "越权", "gender": "male", "birth_date": "1940-01-01",
        "id_number": make_id_number("1940-01-01", 77), "organisation_id": people["other"].id})
    assert response.status_code == 422 and response.get_json()["errors"][0]["item"] == "organisation_id"


def test_inspection_answers_cannot_carry_a_grade(client, rating_world):
    inspector = api_token(client, rating_world["inspector"])
    created = client.post("/api/v1/inspections", headers=inspector,
                          json={"facility_id": rating_world["home"].id, "scheme": "gbt37276-2018"}).get_json()
    response = client.put(f"/api/v1/inspections/{created['id']}/answers", headers=inspector, json={
        "answers": {}, "version": created["version"], "grade": {"code": 5}, "status": "approved"})
    assert response.status_code == 422


def test_report_downloads_are_logged(client, people, elder, gbt, db_session):
    headers = api_token(client, people["assessor1"])
    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "initial"}).get_json()
    saved = client.put(f"/api/v1/assessments/{created['id']}/answers", headers=headers,
                       json={"answers": full_answers(gbt), "version": created["version"]}).get_json()
    client.post(f"/api/v1/assessments/{created['id']}/submit", headers=headers, json={"version": saved["version"]})
    assert client.get(f"/api/v1/assessments/{created['id']}/report.pdf", headers=headers).status_code == 200
    logged = db_session.exec(select(AuditEvent).where(AuditEvent.action == "assessment.report.download",
                                                      AuditEvent.target_id == str(created["id"]))).all()
    assert len(logged) == 1 and logged[0].username == people["assessor1"].username
