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


def test_a_bureau_sets_up_its_tree_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'orgs.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "某市民政局", "--kind", "bureau"]).exit_code == 0
    made = runner.invoke(args=["orgs", "create", "新区", "--kind", "district", "--parent", "某市民政局"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(args=["orgs", "create", "康乐评估", "--kind", "agency", "--parent", "某市民政局"]).exit_code == 0
    contract = runner.invoke(args=["orgs", "contract", "康乐评估", "新区", "--until", "2027-12-31"])
    assert contract.exit_code == 0, contract.output
    user = runner.invoke(args=["users", "create", "xq_admin", "--org", "新区", "--role", "admin"],
                         input="Correct-Horse-42\nCorrect-Horse-42\n")
    assert user.exit_code == 0, user.output
    listing = runner.invoke(args=["orgs", "list"])
    assert "  #" in listing.output and "新区 [district]" in listing.output
    missing = runner.invoke(args=["users", "create", "x", "--org", "旧区", "--role", "admin"],
                            input="Correct-Horse-42\nCorrect-Horse-42\n")
    assert missing.exit_code == 2 and "找不到机构" in missing.output and "Traceback" not in missing.output
    bad_kind = runner.invoke(args=["orgs", "contract", "新区", "康乐评估"])
    assert bad_kind.exit_code == 2 and "第三方评估机构" in bad_kind.output
    app.extensions["yiyang.engine"].dispose()


def test_a_weak_demo_password_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("YIYANG_DEMO_PASSWORD", "short")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'weak.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2
    assert "YIYANG_DEMO_PASSWORD" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    app.extensions["yiyang.engine"].dispose()
