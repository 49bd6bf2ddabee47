"""Repeated submissions with the same client id (Idempotency-Key) store one record."""

from __future__ import annotations

from sqlmodel import func, select

from assessment.models import Elder
from tests.conftest import api_token
from tests.factories import UserFactory, make_id_number

ELDER = {"name": "重发测试", "gender": "male", "birth_date": "1940-02-02", "phone": "13900001111",
         "address": "和平街道2号", "id_number": make_id_number("1940-02-02", 11)}


def _elders(db_session) -> int:
    return db_session.exec(select(func.count()).select_from(Elder)).one()


def test_a_retried_post_is_applied_once(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Idempotency-Key": "tablet-7:elder:0001"}
    before = _elders(db_session)
    first = client.post("/api/v1/elders", json=ELDER, headers=headers)
    again = client.post("/api/v1/elders", json=ELDER, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert _elders(db_session) == before + 1


def test_the_key_is_per_user_and_per_request(client, org_tree):
    one = UserFactory(organisation=org_tree["district1"], roles="assessor")
    two = UserFactory(organisation=org_tree["district1"], roles="assessor")
    key = {"Idempotency-Key": "same-key"}
    assert client.post("/api/v1/elders", json=ELDER, headers={**api_token(client, one), **key}).status_code == 201
    other = client.post("/api/v1/elders", json={**ELDER, "name": "另一位", "id_number": make_id_number("1940-02-02", 12)}, headers={**api_token(client, two), **key})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    reused = client.post("/api/v1/assessments", json={"elder_id": 1}, headers={**api_token(client, one), **key})
    assert reused.status_code == 422 and reused.get_json()["error"] == "idempotency_key_reused"


def test_a_bad_key_is_refused_with_a_reason(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    response = client.post("/api/v1/elders", json=ELDER,
                           headers={**api_token(client, user), "Idempotency-Key": "空格 不行"})
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["message"]


def test_a_failed_request_can_be_retried_with_the_same_key(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Idempotency-Key": "retry-after-422"}
    bad = client.post("/api/v1/elders", json={**ELDER, "birth_date": "not-a-date"}, headers=headers)
    assert bad.status_code == 422
    # a client error is an answer too: the same key replays it rather than applying new content
    replay = client.post("/api/v1/elders", json=ELDER, headers=headers)
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"
