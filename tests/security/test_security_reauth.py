"""Password attempts share one throttle (login, signing, password change), per account with an
exponential wait and per client address; the API ignores a session cookie on writes without the
page's CSRF token; `next` after login never leaves the site."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory


def _fail_login(client: Any, username: str, n: int, address: str = "127.0.0.1") -> None:
    for _ in range(n):
        response = client.post("/login", data={"username": username, "password": "wrong-password"},
                               environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 401


def test_wait_grows_after_the_free_failures_and_the_owner_gets_back_in(app, client, org_tree):
    from accounts import throttle

    user = UserFactory(organisation=org_tree["city"])
    _fail_login(client, user.username, 10)
    blocked = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert 20 <= int(blocked.headers["Retry-After"]) <= 30
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        counter = app.extensions["yiyang.login_counter"]
        key = f"login:{user.username.lower()}"
        for _ in range(3):  # 13 failures: the next try waits 30 s × 2**3 after the last one
            counter.hit(key, throttle.ACCOUNT_WINDOW_S)
        assert 230 <= throttle.retry_after(user.username, None) <= 240
        for _ in range(30):
            counter.hit(key, throttle.ACCOUNT_WINDOW_S)
        assert throttle.retry_after(user.username, None) <= throttle.MAX_DELAY_S
        counter.reset(key)
        assert throttle.retry_after(user.username, None) == 0
    login(client, user)


def test_one_address_spraying_many_accounts_is_stopped(app, client, org_tree):
    app.config["PASSWORD_FAILURES_PER_IP"] = 5
    try:
        users = [UserFactory(organisation=org_tree["city"]) for _ in range(5)]
        for user in users:
            _fail_login(client, user.username, 1, address="10.9.8.7")
        fresh = UserFactory(organisation=org_tree["city"])
        sprayed = client.post("/login", data={"username": fresh.username, "password": TEST_PASSWORD},
                              environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert sprayed.status_code == 429
        elsewhere = client.post("/login", data={"username": fresh.username, "password": TEST_PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.9.8.8"})
        assert elsewhere.status_code == 302
    finally:
        app.config["PASSWORD_FAILURES_PER_IP"] = 30


def test_signing_password_guesses_share_the_login_throttle(client, people, elder):
    assessor = people["assessor1"]
    headers = api_token(client, assessor)
    created = client.post("/api/v1/assessments", headers=headers,
                          json={"elder_id": elder.id, "instrument": "gbt42195-2022", "reason": "initial"}).get_json()
    statuses = [client.post(f"/api/v1/assessments/{created['id']}/sign", headers=headers,
                            json={"password": "wrong-password"}).status_code for _ in range(10)]
    assert 429 not in statuses
    right = client.post(f"/api/v1/assessments/{created['id']}/sign", headers=headers, json={"password": TEST_PASSWORD})
    assert right.status_code == 429
    assert client.post("/api/v1/auth/login",
                       json={"username": assessor.username, "password": TEST_PASSWORD}).status_code == 429


def test_password_change_guesses_are_throttled(client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    login(client, user)
    for _ in range(10):
        response = client.post("/account/password", data={"old_password": "wrong-password",
                                                          "new_password": "Another-Horse-43"})
        assert response.status_code == 422
    blocked = client.post("/account/password", data={"old_password": TEST_PASSWORD,
                                                     "new_password": "Another-Horse-43"})
    assert blocked.status_code == 429


@pytest.mark.parametrize("target", ["/\t/evil.example/phish", "/\\evil.example", "//evil.example", "/\n/evil.example",
                                    "https://evil.example/", "/\x7f/evil.example"])
def test_next_never_leaves_the_site(client, org_tree, target):
    user = UserFactory(organisation=org_tree["city"])
    response = client.post("/login", query_string={"next": target},
                           data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_next_inside_the_site_is_kept(client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    response = client.post("/login", query_string={"next": "/elders?q=x"},
                           data={"username": user.username, "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/elders?q=x")


def test_a_session_cookie_alone_cannot_write_through_the_api(app, client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    assert client.get("/api/v1/auth/me").status_code == 200  # reads are same-origin-protected anyway
    forged = client.post("/api/v1/organisations", data="x", content_type="text/plain")
    assert forged.status_code in (401, 404, 405)
    forged = client.post("/api/v1/plans", data="{}", content_type="text/plain")
    assert forged.status_code == 401
    with client.session_transaction() as state:
        state["csrf_token"] = "a" * 40  # the page token lives in the session; sign it as a page does
    with app.test_request_context():
        from flask import session
        from flask_wtf.csrf import generate_csrf

        session["csrf_token"] = "a" * 40
        token = generate_csrf()
    allowed = client.post("/api/v1/plans", json={}, headers={"X-CSRFToken": token})
    assert allowed.status_code != 401


def test_tokens_are_listed_revoked_and_end_when_idle(app, client, org_tree, db_session):
    from datetime import timedelta

    from accounts.models import ApiToken
    from core.timeutil import utcnow

    user = UserFactory(organisation=org_tree["city"])
    first, second = api_token(client, user), api_token(client, user)
    listed = client.get("/api/v1/auth/tokens", headers=first).get_json()["items"]
    assert len(listed) == 2 and sum(t["current"] for t in listed) == 1
    other = next(t for t in listed if not t["current"])
    assert client.delete(f"/api/v1/auth/tokens/{other['id']}", headers=first).status_code == 200
    assert client.get("/api/v1/auth/me", headers=second).status_code == 401
    stranger = UserFactory(organisation=org_tree["city"])
    current = next(t for t in listed if t["current"])
    assert client.delete(f"/api/v1/auth/tokens/{current['id']}", headers=api_token(client, stranger)).status_code == 404
    assert client.post("/api/v1/auth/logout", headers=first).get_json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=first).status_code == 401

    idle = api_token(client, user)
    from sqlmodel import select

    row = db_session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).first()
    row.last_used_at = utcnow() - timedelta(hours=app.config["API_TOKEN_IDLE_HOURS"] + 1)
    db_session.commit()
    assert client.get("/api/v1/auth/me", headers=idle).status_code == 401


def test_the_token_page_lists_and_revokes(app, client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    headers = api_token(client, user)
    login(client, user)
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "127.0.0.1" in page.get_data(as_text=True)
    assert client.post("/account/tokens/revoke", data={}).status_code == 302
    assert app.test_client().get("/api/v1/auth/me", headers=headers).status_code == 401
    assert "没有有效的 API 令牌" in client.get("/account/tokens").get_data(as_text=True)
    assert client.post("/account/tokens/revoke", data={"token_id": "x1"}).status_code == 400


def test_a_cross_site_post_with_an_administrators_cookie_awards_no_grade(client, rating_world, db_session):
    """The finding itself: a cross-origin text/plain POST to approve, riding only on the browser's
    session cookie, is a 401 and the inspection stays submitted."""
    from rating.models import Grade, Inspection
    from tests.rating.factories import STAR_PASS

    headers = api_token(client, rating_world["inspector"])
    started = client.post("/api/v1/inspections", json={"facility_id": rating_world["station"].id,
                                                       "scheme": "community-star"}, headers=headers).get_json()
    saved = client.put(f"/api/v1/inspections/{started['id']}/answers", headers=headers,
                       json={"answers": STAR_PASS, "facts": {"veto": []}, "version": started["version"]})
    assert saved.status_code == 200, saved.get_json()
    assert client.post(f"/api/v1/inspections/{started['id']}/submit", headers=headers).status_code == 200
    login(client, rating_world["admin"])
    forged = client.post(f"/api/v1/inspections/{started['id']}/approve", data="", content_type="text/plain",
                         headers={"Origin": "http://evil.example"})
    assert forged.status_code == 401
    assert db_session.get(Inspection, started["id"]).status == "submitted"
    assert db_session.exec(select(func.count()).select_from(Grade).where(Grade.inspection_id == started["id"])).one() == 0
