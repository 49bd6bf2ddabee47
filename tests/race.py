"""Real concurrency for tests: a database of its own where requests really commit, an app on it
without the shared test session, and calls that start together on real threads.

    with race_database("postgresql", tmp_path) as url:
        app = race_app(url)
        with seeded(app) as session:        # factories commit into the race database
            user = UserFactory(...)
        clients = [signed_in_api(app, user) for _ in range(2)]
        answers = together(lambda: clients[0].put(...), lambda: clients[1].put(...))

`slow_commits` holds every commit back a moment, so each racer has read the record before
the first one commits (the window in which a check-then-set loses an update).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from core.db import make_engine, upgrade_database
from tests import factories
from tests.conftest import shared_extensions

PG_URL = os.environ.get("YIYANG_TEST_DATABASE_URL", "")
PASSWORD = factories.TEST_PASSWORD


@contextmanager
def race_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database (a SQLite file, or a PostgreSQL schema) dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'race-{uuid.uuid4().hex[:8]}.sqlite'}"
        upgrade_database(url)
        yield url
        return
    if not PG_URL:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI must run the PostgreSQL race tests: YIYANG_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL race skipped: set YIYANG_TEST_DATABASE_URL")
    schema = f"race_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    shared_extensions(admin)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def race_app(url: str, **config: Any) -> Any:
    """An app on `url` whose requests open, commit and close their own sessions."""
    import tempfile

    from app import create_app

    os.environ.setdefault("YIYANG_INSTANCE_PATH", tempfile.mkdtemp(prefix="yiyang-race-"))
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "race-secret",
                       "DATA_KEY": "race-data-key", "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost",
                       **config})


@contextmanager
def seeded(app: Any) -> Iterator[Session]:
    """A session the factories write into; committed for real when the block ends."""
    session = Session(app.extensions["yiyang.engine"], expire_on_commit=False)
    factories.bind(session)
    try:
        yield session
        session.commit()
    finally:
        factories.bind(None)
        session.close()


def signed_in_api(app: Any, user: Any) -> tuple[Any, dict[str, str]]:
    """A test client of its own and bearer headers for `user`."""
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return client, {"Authorization": f"Bearer {response.get_json()['token']}"}


def signed_in_browser(app: Any, user: Any) -> Any:
    """A test client of its own with a page login (cookie) for `user`."""
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def together(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run the calls on threads that wait at one barrier and start at once; their results in
    order. An exception in a call is re-raised here, naming the call."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[tuple[int, BaseException]] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 (reported below, on the test's thread)
            errors.append((index, exc))

    threads = [threading.Thread(target=run, args=(n, call), daemon=True) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"a racer did not finish within {timeout} s"
    if errors:
        index, error = errors[0]
        raise AssertionError(f"racer {index} failed: {error!r}") from error
    return results


@contextmanager
def slow_commits(monkeypatch: Any, seconds: float = 0.3) -> Iterator[None]:
    """Every commit waits `seconds` first, so concurrent requests all read before one commits."""
    original = Session.commit

    def commit(self: Session) -> None:
        time.sleep(seconds)
        original(self)

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", commit)
        yield
