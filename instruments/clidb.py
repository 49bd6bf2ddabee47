"""The database session for instrument commands, when there is a database to use.

`registry_session()` yields a session (committed on success) inside `yiyang ...` when the
database exists and has the registry table, and None otherwise, so that `yiyang score` and
`python -m instruments` work from the shipped packs alone. `required_session()` is for
commands that change the registry: no database is an error there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session


def _app() -> Any:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    if info is None:
        return None
    app = info.load_app()
    ctx.with_resource(app.app_context())
    return app


def _engine_if_ready(app: Any) -> Any:
    url = str(app.config.get("DATABASE_URL") or "")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:") and \
            not Path(url.removeprefix("sqlite:///").split("?")[0]).exists():
        return None  # do not create an empty database file just to look
    engine = app.extensions.get("yiyang.engine")
    if engine is None:
        return None
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("definition_version"):
                return None
    except SQLAlchemyError:
        return None
    return engine


@contextmanager
def registry_session() -> Iterator[Session | None]:
    """A session on the app's database, or None when there is none to use."""
    app = _app()
    engine = _engine_if_ready(app) if app is not None else None
    if engine is None:
        yield None
        return
    factory = app.config.get("DB_SESSION_FACTORY")
    if factory:  # tests: the test's own session
        yield factory()
        return
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def required_session() -> Iterator[Session]:
    """Like registry_session, but no database exits 2 with a message saying what to do."""
    with registry_session() as session:
        if session is None:
            click.echo(json_error("需要数据库：请先运行 yiyang init",
                                  "a database is needed: run yiyang init first"))
            raise SystemExit(2)
        yield session


def json_error(message: str, message_en: str, **extra: Any) -> str:
    import json

    return json.dumps({"errors": [{"item": None, "message": message, "message_en": message_en,
                                   **extra}]}, ensure_ascii=False, indent=2)


__all__ = ["json_error", "registry_session", "required_session"]
