"""Database engine and the per-request session.

Views get the session with `get_session()`; operations only flush; the view commits once.
Tests swap in a session bound to an outer transaction (see tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.resources import resource_dir

MIGRATIONS_DIR = resource_dir("migrations")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout."""
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work as documented.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


def configure_db(app: Flask) -> None:
    """Attach the engine to the app and close the request session on teardown."""
    from core.validation import install_length_guard

    app.extensions["yiyang.engine"] = make_engine(app.config["DATABASE_URL"])
    install_length_guard()

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is None:
            return
        if app.config.get("DB_SESSION_FACTORY"):
            # Tests share one session across requests: drop what the request did not commit,
            # exactly as closing the session does in production.
            session.rollback()
        else:
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["yiyang.engine"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        factory = current_app.config.get("DB_SESSION_FACTORY")
        if factory:
            g.db = factory()
            g.db.commit()  # what the test set up is in the database before the request starts
        else:
            g.db = Session(get_engine(), expire_on_commit=False)
    return g.db  # type: ignore[no-any-return]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for CLI commands and jobs: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str) -> None:
    """Migrate the database to the newest revision of every branch.

    On PostgreSQL the upgrade holds an advisory lock, so app servers that start together
    (each runs `yiyang init`) migrate one after the other instead of racing."""
    config = alembic_config(url)
    if not url.startswith("postgresql"):
        command.upgrade(config, "heads")
        return
    import hashlib

    from sqlalchemy import text

    lock = int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big", signed=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:lock)"), {"lock": lock})
            connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
                connection.commit()
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": lock})
                connection.commit()
    finally:
        engine.dispose()


MAX_ID = 2**31 - 1  # ids are INTEGER columns: the largest key PostgreSQL holds there


def valid_id(value: object) -> int | None:
    """`value` as a row id, or None when it cannot be one (wrong type, negative, too large)."""
    if isinstance(value, int) and not isinstance(value, bool):
        key = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        key = int(value)
    else:
        return None
    return key if 0 < key <= MAX_ID else None


class EditConflict(Exception):
    """Somebody saved the record since this edit began; nothing was written."""

    def __init__(self, current_version: int) -> None:
        super().__init__("conflict")
        self.current_version = current_version


def bump_version(session: Session, obj: Any, expected: int | None) -> None:
    """Optimistic lock: move `obj.version` from `expected` to the next number in one conditional
    UPDATE, so two edits that began from the same version can never both win."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    model = type(obj)
    current = expected if expected is not None else obj.version
    result = session.execute(
        update(model).where(model.id == obj.id, model.version == current).values(version=current + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(obj, ["version"])
        raise EditConflict(obj.version)
    set_committed_value(obj, "version", current + 1)
