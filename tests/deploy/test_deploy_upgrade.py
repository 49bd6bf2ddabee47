"""Upgrading keeps every record: a database made by the previous release's migrations, with
data in it, goes through `yiyang init` to the newest revision and loses nothing.

The previous release is fixed here (the migration heads of release 0.1.0, commit 8dd8bbc), so
the test keeps checking that upgrade as new migrations land. The data is written with plain
SQL against that old schema (today's models may already describe a newer one); afterwards every
row of every old table must still be there with the same values in the old columns, and
today's code must read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Connection

from core.crypto import FieldCipher
from core.db import alembic_config, make_engine
from tests.conftest import shared_extensions

PREVIOUS_RELEASE = ("0003_idempotency", "0101_facility_version", "0201_elder_version")
DATA_KEY = "upgrade-test-data-key"
AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
PG_URL = os.environ.get("YIYANG_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release-0.1.0.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: set YIYANG_TEST_DATABASE_URL")
    schema = f"upgrade_{os.getpid()}"
    admin = make_engine(PG_URL)
    shared_extensions(admin)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _insert_release_data(conn: Connection) -> None:
    """A little of everything release 0.1.0 stored, written as that release's schema has it."""
    tables = MetaData()
    tables.reflect(conn)
    cipher = FieldCipher(DATA_KEY)

    def add(table: str, *rows: dict[str, Any]) -> None:
        conn.execute(tables.tables[table].insert(), list(rows))

    add("organisation",
        {"id": 1, "name": "升级测试市", "kind": "city", "parent_id": None, "path": "/1/",
         "reassessment_months": 12, "created_at": AT},
        {"id": 2, "name": "升级测试区", "kind": "district", "parent_id": 1, "path": "/1/2/",
         "reassessment_months": 6, "created_at": AT})
    add("user_account",
        {"id": 1, "username": "upgrader", "display_name": "升级 评估员", "password_hash": "$argon2id$v=19$x",
         "organisation_id": 2, "roles": "assessor reviewer", "is_active": True,
         "password_changed_at": AT, "created_at": AT, "last_login_at": None})
    add("audit_event",
        {"id": 1, "at": AT, "user_id": 1, "username": "upgrader", "roles": "assessor", "organisation_id": 2,
         "action": "elder.create", "target_type": "elder", "target_id": "1", "changes": {"name": "王秀英"},
         "reason": None, "client_address": "10.0.0.8", "request_id": "r-1", "prev_hash": "0" * 64,
         "hash": "a" * 64})
    add("idempotent_request",
        {"id": 1, "user_id": 1, "key": "k-1", "method": "POST", "path": "/api/v1/elders", "status": 201,
         "body": '{"id": 1}', "created_at": AT})
    add("elder",
        {"id": 1, "organisation_id": 2, "name": "王秀英", "gender": "female", "birth_date": date(1949, 12, 31),
         "id_number_enc": cipher.encrypt("11010519491231002X"), "id_number_hash": "b" * 64,
         "id_number_masked": "110105********002X", "phone_enc": cipher.encrypt("13812345678"),
         "address": "和平街 1 号", "community": "和平社区", "contact_name": "王小明",
         "legal_basis": "consent", "consent_by": "王秀英", "created_at": AT, "updated_at": AT, "version": 3})
    add("assessment",
        {"id": 1, "organisation_id": 2, "elder_id": 1, "instrument_id": "gbt42195-2022",
         "instrument_version": "2022", "reason": "first", "status": "draft", "answers": {"B.1.1": 10},
         "version": 2, "place": "家中", "revision": 1, "created_at": AT, "updated_at": AT})
    add("assessment",  # approved: migration 0510 copies its level into assessment.level_code
        {"id": 2, "organisation_id": 2, "elder_id": 1, "instrument_id": "gbt42195-2022",
         "instrument_version": "2022", "reason": "first", "status": "approved", "answers": {"B.1.1": 10},
         "result": {"total": 40, "level": {"code": 3, "label": {"zh": "重度"}}},
         "version": 5, "place": "家中", "revision": 1, "created_at": AT, "updated_at": AT, "approved_at": AT})
    add("rating_facility",
        {"id": 1, "organisation_id": 1, "name": "幸福养老院", "kind": "institution", "district": "东城区",
         "address": "幸福路 8 号", "beds": 120, "operator": "幸福公司", "filing_status": "filed",
         "is_disqualified": False, "created_at": AT, "version": 4})


def _snapshot(conn: Connection, tables: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of `tables`, in the columns those tables had, by primary key."""
    found = {}
    for name, table in tables.tables.items():
        if name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        found[name] = [tuple(row) for row in conn.execute(select(*table.columns).order_by(*order))]
    return found


def test_init_upgrades_a_previous_release_database_without_losing_anything(old_url, monkeypatch):
    from app import create_app

    config = alembic_config(old_url)
    for head in PREVIOUS_RELEASE:
        command.upgrade(config, head)
    engine = make_engine(old_url)
    try:
        with engine.begin() as conn:
            _insert_release_data(conn)
        old_schema = MetaData()
        with engine.connect() as conn:
            old_schema.reflect(conn)
            before = _snapshot(conn, old_schema)
        assert sum(len(rows) for rows in before.values()) >= 8

        monkeypatch.setenv("YIYANG_DATABASE_URL", old_url)
        app = create_app({"SECRET_KEY": "upgrade-test", "DATA_KEY": DATA_KEY})
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        app.extensions["yiyang.engine"].dispose()

        heads = set(ScriptDirectory.from_config(config).get_heads())
        with engine.connect() as conn:
            assert set(MigrationContext.configure(conn).get_current_heads()) == heads
            after = _snapshot(conn, old_schema)
        assert after == before, "rows changed or vanished in the upgrade"

        # Today's code reads what the old release wrote, encrypted fields included.
        from sqlmodel import Session

        from accounts.models import User
        from assessment.models import Elder

        with Session(engine) as session:
            elder = session.get(Elder, 1)
            assert elder is not None and elder.name == "王秀英" and elder.version == 3
            from assessment.models import Assessment

            levels = dict(session.execute(select(Assessment.id, Assessment.level_code)).all())  # type: ignore[call-overload]
            assert levels == {1: None, 2: 3}  # the statistics' level column, filled by 0510
            assert FieldCipher(DATA_KEY).decrypt(elder.id_number_enc) == "11010519491231002X"
            user = session.get(User, 1)
            assert user is not None and user.username == "upgrader"
    finally:
        engine.dispose()
