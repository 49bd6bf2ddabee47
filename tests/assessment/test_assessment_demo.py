"""The demo seed gives a newcomer a populated system: results, due and overdue, an entitlement table."""

from __future__ import annotations

from sqlmodel import select

from accounts.cli import seed_accounts
from assessment import queries
from assessment.demo import PEOPLE, demo_id_number, seed_demo
from assessment.idnumber import id_number_problems
from assessment.models import Assessment
from tests.conftest import TEST_PASSWORD


def test_demo_ids_are_valid():
    for serial, (_name, gender, birth, *_rest) in enumerate(PEOPLE, start=1):
        assert id_number_problems(demo_id_number(birth, serial, gender), birth_date=birth) == []


def test_demo_seed(app, db_session):
    with app.app_context():
        context, created = seed_accounts(db_session, TEST_PASSWORD)
        assert created
        seed_demo(session=db_session, context=context)
        assessor = context.users["assessor1"]
        rows = db_session.exec(select(Assessment)).all()
        assert sorted(a.status for a in rows) == ["approved", "approved", "approved", "draft", "signed", "submitted"]
        soon, overdue = queries.reassessment_due(db_session, assessor)
        assert len(soon) == 1 and len(overdue) == 1
        locked = next(a for a in rows if a.status == "approved")
        assert queries.entitlement_for(db_session, locked) is not None
        assert queries.search_elders(db_session, context.users["other_assessor"], "") == []



def test_cli_due_and_report(tmp_path, monkeypatch):
    """The CLI on its own database, migrated and seeded like `yiyang init` and `yiyang demo`."""
    from app import create_app
    from core.db import get_engine, session_scope, upgrade_database

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    cli_app = create_app({"DATABASE_URL": url, "SECRET_KEY": "s", "DATA_KEY": "d", "TESTING": True})
    upgrade_database(url)
    with cli_app.app_context(), session_scope(get_engine()) as session:
        context, _ = seed_accounts(session, TEST_PASSWORD)
        seed_demo(session=session, context=context)
    runner = cli_app.test_cli_runner()
    result = runner.invoke(args=["assessment", "due", "--org", "示例市"])
    assert result.exit_code == 0, result.output
    assert "张桂芳" in result.output and "110101********" in result.output
    assert runner.invoke(args=["assessment", "due", "--org", "无此机构"]).exit_code != 0
    out = tmp_path / "report.pdf"
    written = runner.invoke(args=["assessment", "report", "1", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes().startswith(b"%PDF")
    cli_app.extensions["yiyang.engine"].dispose()
