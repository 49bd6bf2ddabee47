"""Fixtures shared by the app tests.

Every test that touches the database runs twice: on SQLite and on PostgreSQL (when
YIYANG_TEST_DATABASE_URL names one; in CI it must). The schema comes from the Alembic
migrations; each test runs inside a transaction rolled back at the end, and the app's request
session joins it through savepoints, so a view's commit stays inside the test.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlmodel import Session

import accounts.passwords
from core.db import make_engine, upgrade_database

PG_URL = os.environ.get("YIYANG_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_PASSWORD = "Correct-Horse-42"

# argon2id at its production cost (64 MiB, 3 passes) spends 0.1-0.6 s on every hash and every
# check, on purpose. The suite signs in over a thousand times and creates users through the
# pages and imports, so its tests hash with the same algorithm at the lowest cost; a check reads
# the cost from the stored hash. Set here, before any test module (or tests.factories) hashes.
# tests/accounts/test_accounts_login.py checks the production cost itself.
accounts.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def shared_extensions(engine: Any) -> None:
    """pg_trgm (the elder name index of migration 0290) in the public schema of the test database.
    A migration run in a private schema would otherwise create the extension there, and dropping
    that schema (CASCADE) would drop it together with every other schema's trigram index, under
    the feet of the test processes sharing the database (pytest -n, helpers, race databases)."""
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('yiyang-test-extensions'))"))
            where = conn.execute(text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_trgm'")).scalar()
            if where is None:
                conn.execute(text("CREATE EXTENSION pg_trgm SCHEMA public"))
            elif where != "public":
                conn.execute(text("ALTER EXTENSION pg_trgm SET SCHEMA public"))
    except DBAPIError:
        pass  # not allowed to create extensions: the migration then makes a plain index


def _private_schema(url: str) -> str:
    """A schema of this test run's own, so runs sharing one database never meet."""
    schema = f"test_{os.getpid()}"
    engine = make_engine(url)
    shared_extensions(engine)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _drop_schema(url: str) -> None:
    engine = make_engine(url.split("?")[0])
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "test_{os.getpid()}" CASCADE'))
    engine.dispose()


BACKENDS = ("sqlite", "postgresql")


def work_unit(nodeid: str) -> str:
    """The unit `pytest -n` hands to one worker: a test file's tests on one database (the file
    alone for tests that name none). One worker then builds each module-scoped fixture (a live
    server, a race database, the services stack) once, and meets the databases in the order
    pytest sorted them, SQLite then PostgreSQL: it migrates each once instead of at every file."""
    path, _, rest = nodeid.partition("::")
    params = rest.partition("[")[2].removesuffix("]")
    backend = next((part for part in params.split("-") if part in BACKENDS), None)
    return f"{path}[{backend}]" if backend else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs two pytest-xdist workers with `--dist loadgroup`: they are handed the
    work units of work_unit(), in collection order, whichever worker is free first."""
    if config.getvalue("dist") != "loadgroup":
        return None  # an explicit --dist load, loadfile, ... is honoured as it is
    from xdist.scheduler import LoadScopeScheduling

    class FileAndDatabase(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # biggest-first would switch databases at every file
    return FileAndDatabase(config, log)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    else:
        if not PG_URL:
            if IN_CI:
                pytest.fail("CI must run the PostgreSQL suite: YIYANG_TEST_DATABASE_URL is not set")
            pytest.skip("PostgreSQL run skipped: set YIYANG_TEST_DATABASE_URL to a test database")
        try:
            url = _private_schema(PG_URL)
        except Exception as exc:  # server not there
            if IN_CI:
                raise
            pytest.skip(f"PostgreSQL run skipped: cannot reach {url.split('@')[-1]} ({type(exc).__name__})")
    upgrade_database(url)
    yield url
    if url.startswith("postgresql"):
        _drop_schema(url)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Any]:
    from app import create_app

    instance = Path(tempfile.mkdtemp(prefix="yiyang-instance-"))
    os.environ["YIYANG_INSTANCE_PATH"] = str(instance)
    # One audit key for the app and for code run outside it, whatever instance folder a test points at.
    os.environ.setdefault("YIYANG_AUDIT_KEY", "test-audit-key")
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "DATA_KEY": "test-data-key",
            "WTF_CSRF_ENABLED": False,
            "PROPAGATE_UNEXPECTED": True,
            "SERVER_NAME": "localhost",
        }
    )
    yield application
    application.extensions["yiyang.engine"].dispose()


@pytest.fixture()
def db_session(app: Any) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    from core.ratelimit import MemoryCounter
    from tests import factories

    engine = app.extensions["yiyang.engine"]
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app.config["DB_SESSION_FACTORY"] = lambda: session
    app.extensions["yiyang.login_counter"] = MemoryCounter()
    factories.bind(session)
    try:
        yield session
    finally:
        factories.bind(None)
        app.config["DB_SESSION_FACTORY"] = None
        session.close()
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture()
def client(app: Any, db_session: Session) -> Any:
    return app.test_client()


@pytest.fixture()
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture()
def org_tree(db_session: Session) -> dict[str, Any]:
    """Two unrelated organisation trees: province › city › two districts, and an agency."""
    from tests.factories import OrganisationFactory

    province = OrganisationFactory(name="测试省", kind="province")
    city = OrganisationFactory(name="测试市", kind="city", parent=province)
    district1 = OrganisationFactory(name="测试一区", kind="district", parent=city)
    district2 = OrganisationFactory(name="测试二区", kind="district", parent=city)
    other = OrganisationFactory(name="无关机构", kind="agency")
    return {"province": province, "city": city, "district1": district1, "district2": district2, "other": other}


def login(client: Any, user: Any, password: str = TEST_PASSWORD) -> Any:
    """Sign in through the login page."""
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def api_token(client: Any, user: Any, password: str = TEST_PASSWORD) -> dict[str, str]:
    """Headers with a bearer token for `user`."""
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
