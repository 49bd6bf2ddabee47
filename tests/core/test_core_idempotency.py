"""Repeated submissions with the same client id (Idempotency-Key) store one record."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from assessment.models import Elder
from core.models import IdempotentRequest
from core.timeutil import utcnow
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


def test_a_refusal_is_an_answer_too_and_nothing_of_its_work_is_kept(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Idempotency-Key": "retry-after-422"}
    bad_body = {**ELDER, "birth_date": "not-a-date"}
    before = _elders(db_session)
    bad = client.post("/api/v1/elders", json=bad_body, headers=headers)
    assert bad.status_code == 422
    replay = client.post("/api/v1/elders", json=bad_body, headers=headers)
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == bad.get_json() and _elders(db_session) == before


def test_a_key_reused_with_a_different_body_is_refused_not_replayed(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Idempotency-Key": "tablet-7:elder:0002"}
    assert client.post("/api/v1/elders", json=ELDER, headers=headers).status_code == 201
    other = client.post("/api/v1/elders", json={**ELDER, "name": "换了名字"}, headers=headers)
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers and _elders(db_session) == 1


def _pending(db_session, user, key, age):
    row = IdempotentRequest(user_id=user.id, key=key, method="POST", path="/api/v1/elders", status=0,
                            body="", created_at=utcnow() - age)
    db_session.add(row)
    db_session.flush()


def test_a_pending_key_left_by_a_crash_expires(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = api_token(client, user)
    _pending(db_session, user, "young", timedelta(seconds=5))
    _pending(db_session, user, "old", timedelta(seconds=61))
    young = client.post("/api/v1/elders", json=ELDER, headers={**headers, "Idempotency-Key": "young"})
    assert young.status_code == 409 and young.get_json()["error"] == "request_in_progress"
    old = client.post("/api/v1/elders", json=ELDER, headers={**headers, "Idempotency-Key": "old"})
    assert old.status_code == 201 and _elders(db_session) == 1
    again = client.post("/api/v1/elders", json=ELDER, headers={**headers, "Idempotency-Key": "old"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_the_key_commits_with_its_work_or_not_at_all(client, org_tree, db_session, app):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, user), "Idempotency-Key": "server-error"}
    app.config["PROPAGATE_UNEXPECTED"] = False

    def boom(**_kwargs):
        raise RuntimeError("disk full")

    import assessment.operations as ops

    original = ops.register_elder
    ops.register_elder = boom
    try:
        failed = client.post("/api/v1/elders", json=ELDER, headers=headers)
    finally:
        ops.register_elder = original
        app.config["PROPAGATE_UNEXPECTED"] = True
    assert failed.status_code == 500
    assert db_session.exec(select(IdempotentRequest).where(IdempotentRequest.key == "server-error")).first() is None
    retried = client.post("/api/v1/elders", json=ELDER, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_old_answers_are_pruned(app, runner, org_tree, db_session):
    from core.idempotency import prune

    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    _pending(db_session, user, "ancient", timedelta(hours=25))
    _pending(db_session, user, "recent", timedelta(hours=1))
    with app.app_context():
        assert prune(session=db_session) == 1
    left = {r.key for r in db_session.exec(select(IdempotentRequest))}
    assert left == {"recent"}


def test_yiyang_idempotency_prune_says_how_many(runner):
    result = runner.invoke(args=["idempotency", "prune", "--hours", "48"])
    assert result.exit_code == 0, result.output
    assert "deleted" in result.output and "幂等键" in result.output
