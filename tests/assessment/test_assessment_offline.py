"""The offline bundle of an assessment ("带到离线") and the outbox's way in: scoped, masked, both
languages, and a save resent with its Idempotency-Key applied once (bearer token or the page's
session with its CSRF token)."""

from __future__ import annotations

import json

from tests.assessment.conftest import ID_NUMBER
from tests.assessment.test_assessment_api import _start
from tests.conftest import api_token, login


def _choice(definition):
    return next(i for s in definition.sections for i in s.items if i.type == "single_choice" and len(i.options) > 1)


def _headers(client, people):
    return {name: api_token(client, people[name]) for name in ("assessor1", "assessor2", "reviewer", "outsider")}


def test_the_bundle_has_everything_the_form_needs_and_no_unmasked_data(client, people, gbt):
    headers = _headers(client, people)
    _elder_id, aid = _start(client, headers)
    first = _choice(gbt)
    client.put(f"/api/v1/assessments/{aid}/answers", headers=headers["assessor1"],
               json={"answers": {first.id: first.options[0].value}, "version": 1})
    response = client.get(f"/api/v1/assessments/{aid}/offline", headers=headers["assessor1"])
    assert response.status_code == 200
    bundle = response.get_json()
    assert bundle["kind"] == "assessment" and bundle["version"] == 2
    assert bundle["answers"] == {first.id: first.options[0].value}
    sections = [s for s in gbt.sections if s.items]
    assert [s["id"] for s in bundle["definition"]["sections"]] == [s.id for s in sections]
    assert bundle["pages"] == [f"/assessments/{aid}/fill?section={s.id}" for s in sections]
    item = next(i for s in bundle["definition"]["sections"] for i in s["items"] if i["id"] == first.id)
    assert item["title"]["zh"] == first.title.zh and item["title"]["en"] == first.title.en
    assert item["options"][0]["label"]["en"] and "required" in item
    assert bundle["definition"]["items"][first.id]["field"]  # how the page's control is named
    assert bundle["person"]["reason"]["en"] == "Initial assessment"
    text = json.dumps(bundle, ensure_ascii=False)
    assert "13900001111" not in text and ID_NUMBER not in text and "440524188001010014" not in text
    assert bundle["person"]["id_number"].count("*") >= 8


def test_the_bundle_is_scoped_and_only_for_drafts(client, people, gbt):
    headers = _headers(client, people)
    _elder_id, aid = _start(client, headers)
    assert client.get(f"/api/v1/assessments/{aid}/offline", headers=headers["outsider"]).status_code == 404
    assert client.get(f"/api/v1/assessments/{aid}/offline", headers=headers["reviewer"]).status_code == 403
    from tests.assessment.conftest import full_answers

    client.put(f"/api/v1/assessments/{aid}/answers", headers=headers["assessor1"],
               json={"answers": full_answers(gbt), "version": 1})
    assert client.post(f"/api/v1/assessments/{aid}/submit", headers=headers["assessor1"], json={}).status_code == 200
    refused = client.get(f"/api/v1/assessments/{aid}/offline", headers=headers["assessor1"])
    assert refused.status_code == 409 and refused.get_json()["error"] == "not_draft"


def test_a_queued_save_resent_with_its_key_is_applied_once(client, people, gbt):
    headers = _headers(client, people)
    _elder_id, aid = _start(client, headers)
    item = _choice(gbt)
    save = {"answers": {item.id: item.options[0].value}, "version": 1}
    sent = {**headers["assessor1"], "Idempotency-Key": "outbox-1"}
    first = client.put(f"/api/v1/assessments/{aid}/answers", headers=sent, json=save)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    # Another session changes the item; the retried save (its first answer was lost) is replayed,
    # not applied again over the other session's answer.
    other = client.put(f"/api/v1/assessments/{aid}/answers", headers=headers["assessor2"],
                       json={"answers": {item.id: item.options[1].value}, "version": 2})
    assert other.status_code == 200
    again = client.put(f"/api/v1/assessments/{aid}/answers", headers=sent, json=save)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    now = client.get(f"/api/v1/assessments/{aid}", headers=headers["assessor1"]).get_json()
    assert now["answers"][item.id] == item.options[1].value and now["version"] == 3


def test_the_page_session_with_its_csrf_token_sends_the_outbox(client, people, gbt):
    headers = _headers(client, people)
    _elder_id, aid = _start(client, headers)
    assert client.get("/api/v1/offline/session").status_code == 401
    login(client, people["assessor1"])
    token = client.get("/api/v1/offline/session").get_json()
    assert token["user"] == people["assessor1"].username and token["csrf_token"]
    item = _choice(gbt)
    body = {"answers": {item.id: item.options[0].value}, "version": 1}
    without = client.put(f"/api/v1/assessments/{aid}/answers", json=body, headers={"Idempotency-Key": "k1"})
    assert without.status_code == 401  # a cookie alone never writes through the API
    sent = {"X-CSRFToken": token["csrf_token"], "Idempotency-Key": "k1"}
    first = client.put(f"/api/v1/assessments/{aid}/answers", json=body, headers=sent)
    again = client.put(f"/api/v1/assessments/{aid}/answers", json=body, headers=sent)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    submitted = client.post(f"/api/v1/assessments/{aid}/submit", json={"version": 2},
                            headers={"X-CSRFToken": token["csrf_token"], "Idempotency-Key": "k2"})
    assert submitted.status_code in (200, 422)
