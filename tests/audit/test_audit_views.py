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


def test_audit_cli_says_rewritten_truncated_or_intact(tmp_path, monkeypatch):
    from app import create_app
    from core.db import session_scope

    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("YIYANG_SIGNING_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    runner.invoke(args=["init"])
    engine = app.extensions["yiyang.engine"]
    with session_scope(engine) as session:
        for n in range(6):
            record_event(session=session, action="test", target_id=n)
    signed = runner.invoke(args=["audit", "checkpoint"])
    assert signed.exit_code == 0 and "6" in signed.output, signed.output
    exported = tmp_path / "checkpoints.jsonl"
    assert runner.invoke(args=["audit", "export-checkpoints", "--out", str(exported)]).exit_code == 0
    assert '"event_id": 6' in exported.read_text()
    with session_scope(engine) as session:
        record_event(session=session, action="test", target_id=7)
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "intact: 1 events checked after the checkpoint at event id 6" in intact.output
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        conn.exec_driver_sql("DELETE FROM audit_event WHERE id > 3")
        conn.exec_driver_sql("DELETE FROM audit_checkpoint")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the cut is invisible from inside alone
    cut = runner.invoke(args=["audit", "verify", "--checkpoints", str(exported)])
    assert cut.exit_code == 1 and "truncated after checkpoint 1" in cut.output
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("UPDATE audit_event SET reason='forged' WHERE id=2")
    rewritten = runner.invoke(args=["audit", "verify", "--full"])
    assert rewritten.exit_code == 1 and "rewritten at event id 2" in rewritten.output
    engine.dispose()


def test_audit_page_pages_by_cursor_without_losing_or_repeating(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    for n in range(7):
        record_event(session=db_session, action="elder.update", target_type="elder", target_id=1000 + n, actor=admin)
    db_session.flush()
    login(client, admin)
    seen: list[str] = []
    url = "/admin/audit/?action=elder.update&limit=3"
    for _ in range(5):
        page = client.get(url).get_data(as_text=True)
        rows = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
        ids = [f"{1000 + n}" for n in range(7) if f"elder {1000 + n}" in rows]
        seen.extend(ids)
        # an event added while paging lands on the first page, never shifts this one
        record_event(session=db_session, action="elder.update", target_type="elder", target_id=2000, actor=admin)
        db_session.flush()
        if 'rel="next"' not in page:
            break
        url = "/admin/audit/" + page.split('rel="next" href="/admin/audit/', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert sorted(seen) == [f"{1000 + n}" for n in range(7)]
    assert client.get("/admin/audit/?limit=100000&cursor=abc").status_code == 200


def test_events_of_no_organisation_are_for_the_root_administrator_only(client, org_tree, db_session):
    root_admin = UserFactory(organisation=org_tree["province"], roles="admin")
    stranger = UserFactory(organisation=org_tree["other"], roles="admin")
    record_event(session=db_session, action="login.failed", target_type="user", target_id="ghost-user-x",
                 client_address="203.0.113.9")
    db_session.flush()
    login(client, stranger)
    assert "ghost-user-x" not in client.get("/admin/audit/?action=login").get_data(as_text=True)
    assert "ghost-user-x" not in client.get("/admin/audit/export.csv").get_data(as_text=True)
    client.post("/logout")
    login(client, root_admin)
    assert "ghost-user-x" in client.get("/admin/audit/?action=login").get_data(as_text=True)


def test_csv_export_defuses_formulas(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    for reason in ("=HYPERLINK(\"http://evil.example\")", "@SUM(A1:A9)", "+1+1", "-2+3", "\tx", "\rx"):
        record_event(session=db_session, action="elder.update", target_type="elder", target_id=1, actor=admin,
                     reason=reason)
    db_session.flush()
    login(client, admin)
    export = client.get("/admin/audit/export.csv?action=elder.update")
    assert export.headers["Cache-Control"] == "no-store"
    import csv
    import io

    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    reasons = {row[9] for row in rows[1:]}
    assert reasons == {"'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1:A9)", "'+1+1", "'-2+3", "'\tx", "'\rx"}
