"""Session lifetime, cookies and headers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from accounts.models import LoginSession
from app import create_app
from tests.conftest import login
from tests.factories import UserFactory


def _age(db_session, user, *, idle=None, created=None):
    found = db_session.exec(select(LoginSession).where(LoginSession.user_id == user.id)).one()
    if idle:
        found.last_seen_at = found.last_seen_at - idle
    if created:
        found.created_at = found.created_at - created
    db_session.flush()


def test_idle_tablet_is_logged_out_after_30_minutes(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["city"])
    login(client, user)
    _age(db_session, user, idle=timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_activity_keeps_the_session_but_not_past_its_lifetime(client, org_tree, db_session):
    user = UserFactory(organisation=org_tree["city"])
    login(client, user)
    _age(db_session, user, idle=timedelta(minutes=20))
    assert client.get("/").status_code == 200
    _age(db_session, user, created=timedelta(hours=13))
    assert client.get("/").status_code == 302


def test_csp_has_a_fresh_nonce_per_response_and_no_inline_script(client, org_tree):
    first = client.get("/login")
    second = client.get("/login")
    csp1, csp2 = first.headers["Content-Security-Policy"], second.headers["Content-Security-Policy"]
    assert "'nonce-" in csp1 and csp1 != csp2
    assert "'unsafe-inline'" not in csp1
    page = first.get_data(as_text=True)
    nonce = csp1.split("'nonce-")[1].split("'")[0]
    for chunk in page.split("<script")[1:]:
        opening = chunk.split(">")[0]
        if 'type="application/json"' in opening:  # a data island the browser never runs
            assert "src=" not in opening
            continue
        assert "src=" in opening and f'nonce="{nonce}"' in opening


def test_production_cookies_are_secure_and_hsts_is_sent(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("YIYANG_ENV", "production")
    monkeypatch.setenv("YIYANG_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("YIYANG_DATA_KEY", "d" * 40)
    monkeypatch.setenv("YIYANG_AUDIT_KEY", "a" * 40)
    monkeypatch.delenv("YIYANG_DEBUG", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    app.extensions["yiyang.engine"].dispose()
