"""Backups restore into a fresh database with every invariant intact (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from core import backup as bk

PG_URL = os.environ.get("YIYANG_TEST_DATABASE_URL", "")


def _seeded_app(tmp_path, url):
    os.environ["YIYANG_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "DATA_KEY": "y", "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app, runner


def _drill(tmp_path, source_url, fresh_url):
    app, runner = _seeded_app(tmp_path, source_url)
    target = tmp_path / "drill.backup"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    before = bk.row_counts(app.extensions["yiyang.engine"])
    assert before["key_check"] == 3  # recorded by the backup, so the backup carries them
    assert "不含密钥" in result.output and "YIYANG_DATA_KEY" in result.output and "YIYANG_AUDIT_KEY" in result.output
    assert set(bk.backup_fingerprints(target)) >= {"data", "audit", "signing"}  # read without restoring
    app.extensions["yiyang.engine"].dispose()

    fresh = create_app({"DATABASE_URL": fresh_url, "SECRET_KEY": "x", "DATA_KEY": "y", "TESTING": True})
    restored = fresh.test_cli_runner().invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    after = bk.row_counts(fresh.extensions["yiyang.engine"])
    assert after == before and before["audit_event"] > 0 and before["user_account"] >= 7
    with fresh.app_context():
        assert bk.check_invariants(fresh.extensions["yiyang.engine"]) == []
        from sqlmodel import Session

        from rating.invariants import count_verified

        with Session(fresh.extensions["yiyang.engine"]) as session:
            assert count_verified(session) == before["rating_certificate"] > 0  # every certificate verifies
    fresh.extensions["yiyang.engine"].dispose()


def test_sqlite_backup_restores_into_a_fresh_database(tmp_path):
    _drill(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}", f"sqlite:///{tmp_path / 'fresh.sqlite'}")


def test_restore_refuses_a_backup_made_with_other_keys(tmp_path):
    app, runner = _seeded_app(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}")
    target = tmp_path / "k.backup"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    app.extensions["yiyang.engine"].dispose()
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    for overrides, named in (({"DATA_KEY": "another-key"}, "YIYANG_DATA_KEY"),
                             ({"DATA_KEY": "y", "AUDIT_KEY": "another-audit-key"}, "YIYANG_AUDIT_KEY")):
        fresh = create_app({"DATABASE_URL": fresh_url, "SECRET_KEY": "x", "TESTING": True, **overrides})
        fresh.test_cli_runner().invoke(args=["init"])
        refused = fresh.test_cli_runner().invoke(args=["restore", str(target), "--yes"])
        assert refused.exit_code == 1 and "未恢复" in refused.output and named in refused.output, refused.output
        assert bk.row_counts(fresh.extensions["yiyang.engine"])["user_account"] == 0  # nothing replaced
        fresh.extensions["yiyang.engine"].dispose()


def test_restore_asks_for_confirmation(tmp_path):
    app, runner = _seeded_app(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}")
    runner.invoke(args=["backup", str(tmp_path / "b.backup")])
    result = runner.invoke(args=["restore", str(tmp_path / "b.backup")], input="n\n")
    assert result.exit_code == 1 and "覆盖" in result.output
    app.extensions["yiyang.engine"].dispose()


def test_postgresql_backup_restores_into_a_fresh_database(tmp_path):
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: set YIYANG_TEST_DATABASE_URL")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    names = [f"yiyang_drill_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    base = PG_URL.rsplit("/", 1)[0]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _drill(tmp_path, f"{base}/{names[0]}", f"{base}/{names[1]}")
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_from_before_key_fingerprints_is_restored_only_when_asked(tmp_path):
    import sqlite3

    app, runner = _seeded_app(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite'}")
    target = tmp_path / "old.backup"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    app.extensions["yiyang.engine"].dispose()
    with sqlite3.connect(target) as conn:  # as a backup made before the key_check table existed
        conn.execute("DELETE FROM key_check")
    assert bk.backup_fingerprints(target) == {}
    fresh = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "SECRET_KEY": "x",
                        "DATA_KEY": "y", "TESTING": True})
    fresh.test_cli_runner().invoke(args=["init"])
    refused = fresh.test_cli_runner().invoke(args=["restore", str(target), "--yes"])
    assert refused.exit_code == 1 and "早于密钥指纹" in refused.output and "--unchecked-keys" in refused.output
    assert bk.row_counts(fresh.extensions["yiyang.engine"])["user_account"] == 0  # nothing replaced
    restored = fresh.test_cli_runner().invoke(args=["restore", str(target), "--yes", "--unchecked-keys"])
    assert restored.exit_code == 0, restored.output
    assert bk.row_counts(fresh.extensions["yiyang.engine"])["user_account"] >= 7
    fresh.extensions["yiyang.engine"].dispose()
