"""Database engine, the per-request session and the one optimistic lock.

Views get the session with `get_session()`; operations only flush; the request's unit of work
(core/unitofwork.py) commits once. On SQLite a request that may write begins with
`BEGIN IMMEDIATE`, so it holds the write lock from its first read and never fails halfway with
SQLITE_BUSY. Tests swap in a session bound to an outer transaction (see tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.errors import EditConflict
from core.resources import resource_dir
from core.timeutil import utcnow

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
            # "IMMEDIATE" for requests that write: take the write lock before the first read, so
            # a read-then-write transaction cannot lose the race for the lock (SQLITE_BUSY_SNAPSHOT).
            mode = connection.get_execution_options().get("sqlite_begin", "")
            connection.exec_driver_sql(f"BEGIN {mode}" if mode in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")

    return engine


def configure_db(app: Flask) -> None:
    """Attach the engine to the app and close the request session on teardown (the unit of work
    is installed last by the app factory: core.unitofwork.install)."""
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
            engine = get_engine()
            if is_write_request():
                engine = engine.execution_options(sqlite_begin="IMMEDIATE")
            g.db = Session(engine, expire_on_commit=False)
    return g.db  # type: ignore[no-any-return]


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_write_request() -> bool:
    """The request may write: an unsafe method, or a retry of a request that found it had to."""
    return has_request_context() and (request.method in WRITE_METHODS or g.get("unit_attempt", 0) > 0)


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


def bump_version(session: Session, obj: Any, expected: int | None,
                 conflict: type[EditConflict] = EditConflict) -> None:
    """The optimistic lock of every editable record: move `obj.version` from `expected` to the
    next number in one conditional UPDATE, so two edits that began from the same version can
    never both win (PostgreSQL re-checks the WHERE after waiting for the other writer's row lock).
    The loser gets `conflict` with the current version and, for answer sets, the server's answers;
    nothing of the losing edit is written (the unit of work rolls the request back)."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    model = type(obj)
    current = expected if expected is not None else obj.version
    if isinstance(current, bool) or not isinstance(current, int) or current != obj.version:
        raise _conflict(conflict, obj)
    values: dict[str, Any] = {"version": current + 1}
    if "updated_at" in model.__table__.columns:
        values["updated_at"] = utcnow()
    result = session.execute(
        update(model).where(model.id == obj.id, model.version == current).values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        with session.no_autoflush:  # what the winner stored, not this edit's unsaved changes
            session.refresh(obj)
        raise _conflict(conflict, obj)
    for name, value in values.items():
        set_committed_value(obj, name, value)


def _conflict(conflict: type[EditConflict], obj: Any) -> EditConflict:
    error = conflict(obj.version)
    answers = getattr(obj, "answers", None)
    if isinstance(answers, dict):
        error.answers = dict(answers)
    return error
