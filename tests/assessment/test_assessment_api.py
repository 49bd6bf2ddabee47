"""The assessment API contract, from outside: shapes, status codes, scoping, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assessment.conftest import ID_NUMBER, OTHER_ID_NUMBER, full_answers
from tests.conftest import api_token

ELDER = {"name": "李建国", "gender": "male", "birth_date": "1880-01-01", "id_number": OTHER_ID_NUMBER,
         "phone": "13900001111", "address": "幸福路 8 号"}


@pytest.fixture()
def headers(client, people) -> dict[str, dict[str, str]]:
    return {name: api_token(client, people[name])
            for name in ("assessor1", "assessor2", "reviewer", "outsider")}


def _start(client, headers, instrument="gbt42195-2022") -> tuple[int, int]:
    elder = client.post("/api/v1/elders", json=ELDER, headers=headers["assessor1"])
    assert elder.status_code == 201, elder.get_json()
    created = client.post("/api/v1/assessments", headers=headers["assessor1"],
                          json={"elder_id": elder.get_json()["id"], "instrument": instrument,
                                "reason": "首次评估"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body == {"id": body["id"], "status": "draft", "version": 1}
    return elder.get_json()["id"], body["id"]


def test_register_elder_masked_and_validated(client, headers):
    response = client.post("/api/v1/elders", json=ELDER, headers=headers["assessor1"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["id_number"] == "440524********0014" and OTHER_ID_NUMBER not in response.get_data(as_text=True)
    assert body["phone"] == "139****1111"
    again = client.get(f"/api/v1/elders/{body['id']}", headers=headers["assessor1"]).get_json()
    assert again["id_number"] == "440524********0014"
    dup = client.post("/api/v1/elders", json={**ELDER, "name": "李建国2"}, headers=headers["assessor2"])
    assert dup.status_code == 409 and dup.get_json()["existing_id"] == body["id"]
    bad = client.post("/api/v1/elders", headers=headers["assessor1"],
                      json={**ELDER, "id_number": ID_NUMBER[:-1] + "1"})
    assert bad.status_code == 422
    assert {e["item"] for e in bad.get_json()["errors"]} == {"id_number"}
    found = client.post("/api/v1/elders/search", json={"q": OTHER_ID_NUMBER}, headers=headers["assessor1"])
    assert [e["id"] for e in found.get_json()["elders"]] == [body["id"]]
    in_url = client.get("/api/v1/elders", query_string={"q": OTHER_ID_NUMBER}, headers=headers["assessor1"])
    assert in_url.status_code == 422  # a full ID number never travels in a URL
    masked = client.get("/api/v1/elders", query_string={"q": "440524********0014"}, headers=headers["assessor1"])
    assert [e["id"] for e in masked.get_json()["elders"]] == [body["id"]]


def test_reveal_is_for_permitted_users_and_audited(client, headers, db_session):
    from sqlmodel import select

    from audit.models import AuditEvent

    elder_id = client.post("/api/v1/elders", json=ELDER, headers=headers["assessor1"]).get_json()["id"]
    refused = client.post(f"/api/v1/elders/{elder_id}/reveal", json={"field": "id_number"},
                          headers=headers["assessor1"])
    assert refused.status_code == 403
    shown = client.post(f"/api/v1/elders/{elder_id}/reveal", json={"field": "id_number", "reason": "核对"},
                        headers=headers["reviewer"])
    assert shown.get_json()["value"] == OTHER_ID_NUMBER
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "elder.reveal")).all()
    assert len(events) == 1 and OTHER_ID_NUMBER not in str(events[0].changes)


def test_full_flow_through_the_api(client, headers, gbt):
    _elder_id, aid = _start(client, headers)
    answers = full_answers(gbt, pick="last")
    half = dict(list(answers.items())[:10])
    saved = client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": half, "version": 1},
                       headers=headers["assessor1"])
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    stale = client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": {"B.1.1": 10}, "version": 1},
                       headers=headers["assessor2"])
    assert stale.status_code == 409 and stale.get_json()["version"] == 2
    assert stale.get_json()["answers"] == half and stale.get_json()["status"] == "draft"
    # The same answers again with the old version (a retried save that already landed): no conflict.
    again = client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": half, "version": 1},
                       headers=headers["assessor1"])
    assert again.status_code == 200
    assert set(again.get_json()) == {"id", "version", "status", "problems", "relevant", "saved_at"}
    assert again.get_json()["version"] == 2
    incomplete = client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"])
    assert incomplete.status_code == 422
    errors = incomplete.get_json()["errors"]
    assert errors and all(set(e) >= {"item", "message"} for e in errors)
    client.put(f"/api/v1/assessments/{aid}/answers", json={"answers": answers, "version": 2},
               headers=headers["assessor1"])
    first = client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"])
    second = client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"])
    assert first.status_code == second.status_code == 200
    body = first.get_json()
    assert body["status"] == "submitted" and second.get_json()["result"] == body["result"]
    result = body["result"]
    for key in ("instrument", "version", "total", "max_total", "domains", "preliminary_level", "level",
                "adjustments", "explanation", "warnings"):
        assert key in result
    assert result["level"]["code"] == 4 and set(result["domains"]) == {"B1", "B2", "B3", "B4"}
    wrong = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": "nope"},
                        headers=headers["assessor1"])
    assert wrong.status_code == 403
    for who in ("assessor1", "assessor2", "reviewer"):
        signed = client.post(f"/api/v1/assessments/{aid}/sign", json={"password": "Correct-Horse-42"},
                             headers=headers[who])
        assert signed.status_code == 200, signed.get_json()
    detail = client.get(f"/api/v1/assessments/{aid}", headers=headers["assessor1"]).get_json()
    assert detail["status"] == "approved"
    assert [s["role"] for s in detail["signatures"]] == ["assessor", "assessor", "reviewer"]
    assert all(s["valid"] for s in detail["signatures"])
    assert detail["answers"] == answers and len(detail["history"]) == 1
    locked = client.put(f"/api/v1/assessments/{aid}/answers",
                        json={"answers": {"B.1.1": 10}, "version": detail["version"]},
                        headers=headers["assessor1"])
    assert locked.status_code == 409
    no_reason = client.post(f"/api/v1/assessments/{aid}/amend", json={"reason": ""},
                            headers=headers["assessor1"])
    assert no_reason.status_code == 422
    amended = client.post(f"/api/v1/assessments/{aid}/amend", json={"reason": "补录诊断"},
                          headers=headers["assessor1"])
    assert amended.status_code == 201 and amended.get_json()["revision"] == 2
    new_detail = client.get(f"/api/v1/assessments/{amended.get_json()['id']}",
                            headers=headers["assessor1"]).get_json()
    assert [h["id"] for h in new_detail["history"]] == [aid, amended.get_json()["id"]]


def test_second_instrument(client, headers, app):
    definition = app.extensions["yiyang.definitions"]["barthel"]
    _elder_id, aid = _start(client, headers, instrument="barthel")
    client.put(f"/api/v1/assessments/{aid}/answers",
               json={"answers": full_answers(definition), "version": 1}, headers=headers["assessor1"])
    submitted = client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"])
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["result"]["instrument"] == "barthel"


def test_other_organisation_gets_404_everywhere(client, headers, gbt):
    elder_id, aid = _start(client, headers)
    other = headers["outsider"]
    calls: list[tuple[str, str, Any]] = [
        ("get", f"/api/v1/elders/{elder_id}", None),
        ("post", f"/api/v1/elders/{elder_id}/reveal", {"field": "id_number"}),
        ("post", "/api/v1/assessments", {"elder_id": elder_id, "instrument": "gbt42195-2022"}),
        ("get", f"/api/v1/assessments/{aid}", None),
        ("put", f"/api/v1/assessments/{aid}/answers", {"answers": {}, "version": 1}),
        ("post", f"/api/v1/assessments/{aid}/submit", {}),
        ("post", f"/api/v1/assessments/{aid}/sign", {"password": "Correct-Horse-42"}),
        ("post", f"/api/v1/assessments/{aid}/amend", {"reason": "x"}),
        ("get", f"/api/v1/assessments/{aid}/report.pdf", None),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=other)
        assert response.status_code == 404, (method, url, response.status_code)
    listed = client.get("/api/v1/elders", headers=other).get_json()
    assert listed["elders"] == []


def test_openapi_lists_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        "/api/v1/elders": {"post", "get"},
        "/api/v1/elders/{elder_id}": {"get"},
        "/api/v1/assessments": {"post"},
        "/api/v1/assessments/{assessment_id}": {"get"},
        "/api/v1/assessments/{assessment_id}/answers": {"put"},
        "/api/v1/assessments/{assessment_id}/submit": {"post"},
        "/api/v1/assessments/{assessment_id}/sign": {"post"},
        "/api/v1/assessments/{assessment_id}/report.pdf": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert "application/pdf" in paths["/api/v1/assessments/{assessment_id}/report.pdf"]["get"]["responses"]["200"]["content"]


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_report_pdf_has_the_level_and_no_full_id(client, headers, gbt, people, db_session):
    from accounts.models import User
    from assessment import operations as ops

    admin = db_session.get(User, people["admin"].id)
    with client.application.test_request_context():
        ops.set_entitlement(session=db_session, actor=admin, organisation=people["city"],
                            instrument_id=gbt.id, level_code=4, services=["上门护理", "助浴"],
                            monthly_subsidy_fen=80000)
    _elder_id, aid = _start(client, headers)
    not_yet = client.get(f"/api/v1/assessments/{aid}/report.pdf", headers=headers["assessor1"])
    assert not_yet.status_code == 409
    client.put(f"/api/v1/assessments/{aid}/answers",
               json={"answers": full_answers(gbt, pick="last"), "version": 1}, headers=headers["assessor1"])
    client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"])
    response = client.get(f"/api/v1/assessments/{aid}/report.pdf", headers=headers["assessor1"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    compact = text.replace(" ", "").replace("\n", "")
    assert "能力完全丧失" in compact
    assert OTHER_ID_NUMBER not in compact and "440524********0014" in compact
    assert "上门护理" in compact and "800.00元" in compact
