"""`yiyang init` and `yiyang demo` from the command line."""

from __future__ import annotations

from click.testing import CliRunner

from app import create_app


def test_init_then_demo_twice_does_not_duplicate(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("YIYANG_DEMO_PASSWORD", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "assessor1" in first.output and "other_assessor" in first.output
    password = (tmp_path / "demo_password.txt").read_text().strip()
    assert password in first.output
    from core.backup import row_counts

    counts = row_counts(app.extensions["yiyang.engine"])
    second = runner.invoke(args=["demo"])
    assert row_counts(app.extensions["yiyang.engine"]) == counts
    assert second.exit_code == 0 and "已存在" in second.output and password not in second.output
    from sqlmodel import Session, func, select

    from accounts.models import Organisation, User

    with Session(app.extensions["yiyang.engine"]) as s:
        assert s.exec(select(func.count()).select_from(User)).one() >= 7
        assert s.exec(select(func.count()).select_from(Organisation)).one() >= 6
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data={"username": "assessor1", "password": password}).status_code == 302
    app.extensions["yiyang.engine"].dispose()


def test_console_script_is_a_flask_group():
    from app import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "demo", "run", "routes", "shell"):
        assert command in result.output
