"""Webhooks: subscriptions and the deny list, signed deliveries after commit, none after a
rollback, retries with backoff, the delivery log and resend."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlmodel import select

from core.timeutil import utcnow
from jobs.models import WebhookDelivery
from jobs.webhooks import BACKOFF_S, UrlRefused, check_url, deliver
from rating import operations as ops
from tests.conftest import api_token, login
from tests.jobs.test_jobs_certificates import _approved

SECRET = "s3cret-s3cret-s3cret"


def _commit(app, session):
    """Commit as the app does (in its context), then run what the commit queued."""
    with app.app_context():
        session.commit()
    app.extensions["yiyang.jobs"].drain()


def _subscribe(client, user, url, events):
    return client.post("/api/v1/webhooks", json={"url": url, "events": events, "secret": SECRET},
                       headers=api_token(client, user))


def test_subscription_checks_url_events_and_secret(app, client, db_session, rating_world):
    admin = rating_world["admin"]
    answer = _subscribe(client, admin, "http://127.0.0.1:9/hook", ["certificate.issued"])
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["item"] == "url" and "YIYANG_WEBHOOK_ALLOW_HOSTS" in answer.get_json()["errors"][0]["message"]
    for url in ("http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest", "ftp://example.org/x"):
        try:
            check_url(url)
        except UrlRefused:
            continue
        raise AssertionError(f"{url} was let through")
    answer = client.post("/api/v1/webhooks", json={"url": "https://8.8.8.8/x", "events": ["nope"], "secret": "short"},
                         headers=api_token(client, admin))
    assert {e["item"] for e in answer.get_json()["errors"]} == {"events", "secret"}
    inspector = api_token(client, rating_world["inspector"])
    assert client.post("/api/v1/webhooks", json={}, headers=inspector).status_code == 403
    app.config["WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
    try:
        answer = _subscribe(client, admin, "http://127.0.0.1:9/hook", ["certificate.issued"])
    finally:
        app.config.pop("WEBHOOK_ALLOW_HOSTS")
    assert answer.status_code == 201 and answer.get_json()["events"] == ["certificate.issued"]
    listed = client.get("/api/v1/webhooks", headers=api_token(client, admin)).get_json()
    assert [s["url"] for s in listed] == ["http://127.0.0.1:9/hook"] and "secret" not in listed[0]


def test_events_are_signed_and_sent_after_commit_only(app, client, db_session, rating_world, receiver):
    admin = rating_world["admin"]
    assert _subscribe(client, admin, receiver.url, ["grade.awarded", "certificate.issued",
                                                    "certificate.revoked"]).status_code == 201
    # a change that rolls back sends nothing
    grade = _approved(app, db_session, rating_world, rating_world["station"])
    db_session.rollback()
    assert db_session.exec(select(WebhookDelivery)).all() == []
    # through the API: approve → grade.awarded; issue → certificate.issued; revoke → certificate.revoked
    grade = _approved(app, db_session, rating_world, rating_world["station"])
    _commit(app, db_session)
    headers = api_token(client, admin)
    issued = client.post("/api/v1/certificates", json={"inspection_id": grade.inspection_id}, headers=headers)
    assert issued.status_code in (200, 201), issued.get_json()
    events = [r["headers"]["X-Yiyang-Event"] for r in receiver.received]
    assert events == ["grade.awarded", "certificate.issued"]
    for request in receiver.received:
        timestamp = request["headers"]["X-Yiyang-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Yiyang-Signature"] == f"sha256={expected}"
        assert abs(int(timestamp) - utcnow().timestamp()) < 60
    data = receiver.received[1]["json"]
    assert data["event"] == "certificate.issued" and data["data"]["grade_id"] == grade.id
    assert "serial" in data["data"]
    rows = db_session.exec(select(WebhookDelivery)).all()
    assert {r.status for r in rows} == {"delivered"} and all(r.last_status_code == 200 for r in rows)


def test_failed_delivery_is_retried_with_backoff_then_resent_from_the_log(app, client, db_session,
                                                                          rating_world, receiver):
    admin = rating_world["admin"]
    _subscribe(client, admin, receiver.url, ["grade.awarded"])
    receiver.statuses = [500]
    _approved(app, db_session, rating_world, rating_world["station"])
    _commit(app, db_session)
    delivery = db_session.exec(select(WebhookDelivery)).one()
    db_session.refresh(delivery)
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert delivery.next_attempt_at > utcnow() + timedelta(seconds=BACKOFF_S[0] - 5)
    assert deliver(app, delivery.id) is None  # not yet: its time has not come
    assert len(receiver.received) == 1
    # the day runs out: after the last try the delivery is failed and shown on the log
    receiver.statuses = [503] * 20
    for _ in range(len(BACKOFF_S) + 2):
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
        db_session.add(delivery)
        db_session.commit()
        deliver(app, delivery.id)
        db_session.refresh(delivery)
        if delivery.status == "failed":
            break
    assert delivery.status == "failed" and delivery.attempts == len(BACKOFF_S) + 1
    login(client, admin)
    page = client.get("/admin/webhooks/deliveries?status=failed").get_data(as_text=True)
    assert "grade.awarded" in page and "HTTP 503" in page
    receiver.statuses = []
    assert client.post(f"/admin/webhooks/deliveries/{delivery.id}/resend").status_code == 302
    db_session.refresh(delivery)
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_escalation_emits_action_overdue(app, client, db_session, rating_world, receiver):
    from rating.models import CorrectiveAction, Inspection
    from tests.rating.factories import STAR_FAIL

    _subscribe(client, rating_world["admin"], receiver.url, ["action.overdue", "inspection.approved"])
    with app.test_request_context():
        inspection = ops.start_inspection(session=db_session, actor=rating_world["inspector"],
                                          facility=rating_world["station"], scheme="community-star")
        ops.save_answers(session=db_session, actor=rating_world["inspector"], inspection=inspection,
                         answers=STAR_FAIL, version=inspection.version)
        ops.submit_inspection(session=db_session, actor=rating_world["inspector"], inspection=inspection)
    actions = db_session.exec(select(CorrectiveAction)).all()
    assert actions
    for action in actions:
        action.due_at = utcnow() - timedelta(days=1)
        db_session.add(action)
    db_session.commit()
    headers = api_token(client, rating_world["admin"])
    job = client.post("/api/v1/jobs", json={"kind": "escalate"}, headers=headers).get_json()
    shown = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).get_json()
    assert shown["status"] == "finished" and shown["result"] == {"escalated": len(actions)}
    overdue = [r["json"] for r in receiver.received if r["headers"]["X-Yiyang-Event"] == "action.overdue"]
    assert sorted(p["data"]["id"] for p in overdue) == sorted(a.id for a in actions)
    assert all(p["data"]["status"] == "escalated" for p in overdue)
    assert db_session.get(Inspection, inspection.id).status == "submitted"
