"""The administrator's audit page, export and `yiyang audit verify`."""

from __future__ import annotations

from audit import record_event
from tests.conftest import login
from tests.factories import UserFactory


def test_audit_page_filters_and_scopes(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    stranger = UserFactory(organisation=org_tree["other"], roles="assessor")
    record_event(session=db_session, action="elder.create", target_type="elder", target_id=7, actor=admin)
    record_event(session=db_session, action="elder.create", target_type="elder", target_id=8, actor=stranger)
    login(client, admin)
    page = client.get("/admin/audit/?action=elder.create").get_data(as_text=True)
    assert admin.username in page and stranger.username not in page
    only_login = client.get(f"/admin/audit/?person={admin.username}&action=login").get_data(as_text=True)
    assert "elder.create" not in only_login.split("<tbody>")[1]
    export = client.get("/admin/audit/export.csv?action=elder")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "elder.create" in export.get_data(as_text=True)


def test_audit_page_is_for_admins(client, org_tree):
    login(client, UserFactory(organisation=org_tree["city"], roles="assessor"))
    assert client.get("/admin/audit/").status_code == 403


def test_audit_verify_command(tmp_path, monkeypatch):
    from app import create_app
    from core.db import session_scope

    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    runner.invoke(args=["init"])
    with session_scope(app.extensions["yiyang.engine"]) as session:
        for n in range(3):
            record_event(session=session, action="test", target_id=n)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "3" in result.output
    with app.extensions["yiyang.engine"].begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("UPDATE audit_event SET reason='forged' WHERE id=2")
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "2" in broken.output
    app.extensions["yiyang.engine"].dispose()
