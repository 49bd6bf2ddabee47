"""An administrator resets a password (page, API, CLI): the temporary password is shown once, the
user's sessions and tokens end, and the user must change it before doing anything else."""

from __future__ import annotations

from sqlmodel import select

from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory, current_session

NEW_PASSWORD = "Bright-River-77"


def _events(action: str) -> list[AuditEvent]:
    return list(current_session().exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_api_reset_ends_tokens_and_the_user_must_change_before_anything_else(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    assessor = UserFactory(organisation=org_tree["district1"], roles="assessor")
    old_token = api_token(client, assessor)
    assert client.get("/api/v1/auth/me", headers=old_token).status_code == 200
    headers = api_token(client, admin)

    reset = client.post(f"/api/v1/users/{assessor.id}/reset-password", headers=headers, json={})
    assert reset.status_code == 200, reset.get_json()
    body = reset.get_json()
    temporary = body["password"]
    assert body["generated"] and body["must_change_password"] and len(temporary) >= 12
    assert client.get("/api/v1/auth/me", headers=old_token).status_code == 401  # revoked
    event = _events("user.password_reset")[-1]
    assert temporary not in str(event.changes) and event.user_id == admin.id

    token = api_token(client, assessor, password=temporary)
    refused = client.get("/api/v1/elders", headers=token)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "password_change_required"
    assert "请先修改密码" in refused.get_json()["message"]
    assert client.get("/api/v1/auth/me", headers=token).status_code == 403
    # The refusal is no answer to keep under an Idempotency-Key.
    keyed = {**token, "Idempotency-Key": "after-reset-1"}
    assert client.post("/api/v1/organisations", headers=keyed, json={}).status_code == 403

    weak = client.post("/api/v1/auth/password", headers=token,
                       json={"old_password": temporary, "new_password": "123"})
    assert weak.status_code == 422 and "8" in weak.get_json()["message"]
    changed = client.post("/api/v1/auth/password", headers=token,
                          json={"old_password": temporary, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.get_json()
    session = current_session()
    session.expire_all()
    assert session.get(User, assessor.id).must_change_password is False
    fresh = api_token(client, assessor, password=NEW_PASSWORD)
    assert client.get("/api/v1/auth/me", headers=fresh).status_code == 200


def test_logout_stays_open_to_a_user_who_must_change(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    user = UserFactory(organisation=org_tree["city"], roles="reviewer")
    given = client.post(f"/api/v1/users/{user.id}/reset-password", headers=api_token(client, admin),
                        json={"password": "Given-Temp-2026"})
    assert given.status_code == 200 and given.get_json()["password"] == "Given-Temp-2026"
    assert given.get_json()["generated"] is False
    token = api_token(client, user, password="Given-Temp-2026")
    assert client.post("/api/v1/auth/logout", headers=token).get_json() == {"revoked": 1}


def test_pages_send_the_user_to_the_password_form_until_changed(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    assessor = UserFactory(organisation=org_tree["district1"], roles="assessor")
    login(client, admin)
    page = client.get(f"/admin/users/{assessor.id}").get_data(as_text=True)
    assert "重置密码" in page and "data-confirm" in page
    shown = client.post(f"/admin/users/{assessor.id}/reset-password", data={"password": ""})
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "只显示这一次" in text
    session = current_session()
    session.expire_all()
    stored = session.get(User, assessor.id)
    assert stored.must_change_password
    temporary = text.split("<code>")[1].split("</code>")[0]
    assert temporary not in (shown.headers.get("Location") or "")
    client.post("/logout")

    login(client, assessor, password=temporary)
    for path in ("/", "/elders", "/admin/users", "/account/tokens"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password"), path
    form = client.get("/account/password").get_data(as_text=True)
    assert "管理员已重置您的密码" in form
    changed = client.post("/account/password", data={"old_password": temporary, "new_password": NEW_PASSWORD})
    assert changed.status_code == 302
    login(client, assessor, password=NEW_PASSWORD)
    assert client.get("/").status_code == 200
    assert "管理员已重置您的密码" not in client.get("/account/password").get_data(as_text=True)


def test_a_weak_given_password_is_refused_and_nothing_changes(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    user = UserFactory(organisation=org_tree["city"], roles="assessor")
    login(client, admin)
    refused = client.post(f"/admin/users/{user.id}/reset-password", data={"password": "123"})
    assert refused.status_code == 422 and "至少需要 8 个字符" in refused.get_data(as_text=True)
    session = current_session()
    session.expire_all()
    assert session.get(User, user.id).must_change_password is False
    assert client.get("/api/v1/auth/me", headers=api_token(client, user)).status_code == 200


def test_another_organisations_user_cannot_be_reset(client, org_tree):
    admin = UserFactory(organisation=org_tree["district1"], roles="admin")
    outsider = UserFactory(organisation=org_tree["district2"], roles="assessor")
    headers = api_token(client, admin)
    assert client.post(f"/api/v1/users/{outsider.id}/reset-password", headers=headers, json={}).status_code == 404
    login(client, admin)
    assert client.post(f"/admin/users/{outsider.id}/reset-password", data={}).status_code == 404
    plain = UserFactory(organisation=org_tree["district1"], roles="assessor")
    assert client.post(f"/api/v1/users/{outsider.id}/reset-password", headers=api_token(client, plain),
                       json={}).status_code == 403


def test_cli_resets_deactivates_and_activates(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'reset.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    app.config["WTF_CSRF_ENABLED"] = False
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "某市民政局", "--kind", "bureau"]).exit_code == 0
    made = runner.invoke(args=["users", "create", "zhang", "--org", "某市民政局", "--role", "assessor"],
                         input=f"{TEST_PASSWORD}\n{TEST_PASSWORD}\n")
    assert made.exit_code == 0, made.output
    missing = runner.invoke(args=["users", "reset-password", "nobody"])
    assert missing.exit_code == 2 and "找不到用户" in missing.output
    weak = runner.invoke(args=["users", "reset-password", "zhang", "--password", "123"])
    assert weak.exit_code == 2 and "Traceback" not in weak.output
    result = runner.invoke(args=["users", "reset-password", "zhang"])
    assert result.exit_code == 0, result.output
    temporary = result.output.split("temporary password: ")[1].split()[0]
    client = app.test_client()
    assert client.post("/login", data={"username": "zhang", "password": TEST_PASSWORD}).status_code == 401
    assert client.post("/login", data={"username": "zhang", "password": temporary}).status_code == 302
    assert client.get("/").headers["Location"].endswith("/account/password")
    assert runner.invoke(args=["users", "deactivate", "zhang"]).exit_code == 0
    assert client.get("/").status_code == 302 and "/login" in client.get("/").headers["Location"]
    assert client.post("/login", data={"username": "zhang", "password": temporary}).status_code == 401
    assert runner.invoke(args=["users", "activate", "zhang"]).exit_code == 0
    assert client.post("/login", data={"username": "zhang", "password": temporary}).status_code == 302
    with app.app_context():
        from core.db import get_engine, session_scope

        with session_scope(get_engine()) as session:
            actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert {"user.password_reset", "user.deactivate", "user.activate"} <= set(actions)
    app.extensions["yiyang.engine"].dispose()


def test_a_temporary_password_is_never_kept_under_an_idempotency_key(client, org_tree, db_session):
    from core.models import IdempotentRequest

    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    assessor = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = {**api_token(client, admin), "Idempotency-Key": "reset-once"}
    first = client.post(f"/api/v1/users/{assessor.id}/reset-password", headers=headers, json={})
    assert first.status_code == 200
    temporary = first.get_json()["password"]
    stored = db_session.exec(select(IdempotentRequest).where(IdempotentRequest.key == "reset-once")).one()
    assert temporary not in stored.body
    again = client.post(f"/api/v1/users/{assessor.id}/reset-password", headers=headers, json={})
    assert again.status_code == 409 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["error"] == "not_replayed" and temporary not in again.get_data(as_text=True)
