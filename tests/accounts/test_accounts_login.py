"""Login, logout, sessions, rate limit, CSRF, roles and organisation scoping."""

from __future__ import annotations

from sqlmodel import select

from accounts.models import LoginSession
from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory


def _actions(db_session):
    return [e.action for e in db_session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_and_home_page_per_role(client, org_tree):
    user = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "用户管理" in page
    assert user.display_name in page


def test_passwords_are_hashed_with_argon2id_at_the_production_cost():
    """The suite hashes cheaply (tests/conftest.py); the application's own hasher made the hash
    an unknown user is checked against, when the module was imported."""
    from argon2 import Type, extract_parameters

    from accounts.passwords import DUMMY_HASH

    cost = extract_parameters(DUMMY_HASH)
    assert cost.type is Type.ID and cost.time_cost >= 3 and cost.memory_cost >= 64 * 1024


def test_wrong_password_and_unknown_user_get_the_same_message(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["city"])
    wrong = client.post("/login", data={"username": user.username, "password": "not-the-password"})
    unknown = client.post("/login", data={"username": "nobody-here", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert "用户名或密码不正确" in unknown.get_data(as_text=True)
    assert _actions(db_session).count("login.failed") == 2


def test_ten_failures_in_a_minute_are_rate_limited_and_logged(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["city"])
    for _ in range(10):
        assert client.post("/login", data={"username": user.username, "password": "bad-password"}).status_code == 401
    blocked = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "秒后再试" in blocked.get_data(as_text=True)
    assert "login.rate_limited" in _actions(db_session)
    api = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
    assert api.status_code == 429


def test_rate_limit_shared_through_redis_when_configured():
    import os
    import uuid

    import pytest

    url = os.environ.get("YIYANG_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis run skipped: set YIYANG_TEST_REDIS_URL")
    from core.ratelimit import make_counter

    key = f"test:{uuid.uuid4()}"
    one, two = make_counter(url), make_counter(url)  # two workers
    for _ in range(6):
        one.hit(key, 60)
    for _ in range(4):
        two.hit(key, 60)
    assert one.count(key, 60) == two.count(key, 60) == 10
    two.reset(key)
    assert one.count(key, 60) == 0


def test_logout_invalidates_a_replayed_cookie(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["city"])
    login(client, user)
    cookie = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302
    client.set_cookie("session", cookie)  # an attacker replays the old cookie
    assert client.get("/").status_code == 302
    assert db_session.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one().ended_at
    assert {"login", "logout"} <= set(_actions(db_session))


def test_password_change_ends_every_session(app, client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    other_device = app.test_client()
    login(client, user)
    login(other_device, user)
    response = client.post("/account/password",
                           data={"old_password": TEST_PASSWORD, "new_password": "Brand-New-Secret-7"})
    assert response.status_code == 302
    assert other_device.get("/").status_code == 302
    assert client.post("/login", data={"username": user.username, "password": "Brand-New-Secret-7"}).status_code == 302


def test_password_policy_lists_every_problem(client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    login(client, user)
    response = client.post("/account/password", data={"old_password": "wrong-one", "new_password": "123456"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "原密码不正确" in text and "至少需要 8 个字符" in text and "太常见" in text


def test_post_without_csrf_token_is_400(app, client, org_tree):
    user = UserFactory(organisation=org_tree["city"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        ok = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_roles_are_enforced(client, org_tree):
    assessor = UserFactory(organisation=org_tree["city"], roles="assessor")
    login(client, assessor)
    assert client.get("/admin/users").status_code == 403


def test_anonymous_user_is_sent_to_login(client, db_session):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_other_organisation_gets_404_not_403(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    stranger = UserFactory(organisation=org_tree["other"], roles="admin")
    login(client, stranger)
    assert client.get(f"/admin/users/{admin.id}").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404
    listing = client.get("/admin/users").get_data(as_text=True)
    assert admin.username not in listing


def test_admin_sees_subtree_and_changes_roles_with_audit(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    below = UserFactory(organisation=org_tree["district1"], roles="assessor")
    above = UserFactory(organisation=org_tree["province"], roles="assessor")
    login(client, admin)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert below.username in listing and above.username not in listing
    assert client.get(f"/admin/users/{above.id}").status_code == 404
    response = client.post(f"/admin/users/{below.id}", data={"roles": ["assessor", "reviewer"], "is_active": "y"})
    assert response.status_code == 302
    db_session.refresh(below)
    assert below.role_set == {"assessor", "reviewer"}
    assert "user.roles" in _actions(db_session)


def test_admin_creates_user_keeps_input_on_error(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    bad = client.post("/admin/users/new", data={"username": "newbie", "display_name": "新人",
                                                "password": "password", "organisation_id": org_tree["district1"].id,
                                                "roles": ["assessor"]})
    assert bad.status_code == 422
    assert 'value="newbie"' in bad.get_data(as_text=True)
    good = client.post("/admin/users/new", data={"username": "newbie", "display_name": "新人",
                                                 "password": "Long-Enough-99", "organisation_id": org_tree["district1"].id,
                                                 "roles": ["assessor"]})
    assert good.status_code == 302


def test_api_token_login_and_bearer_auth(client, org_tree):
    user = UserFactory(organisation=org_tree["city"], roles="assessor reviewer")
    headers = api_token(client, user)
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["roles"] == ["assessor", "reviewer"]
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    bad = client.post("/api/v1/auth/login", json={"username": user.username, "password": "wrong-password"})
    assert bad.status_code == 401 and bad.get_json()["message"] == "用户名或密码不正确。"
    missing = client.post("/api/v1/auth/login", json={"username": user.username})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["item"] == "password"


def test_unknown_url_is_a_chinese_404_page(client, db_session):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert client.get("/api/v1/no-such").status_code == 404


def test_security_headers(client, db_session):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
