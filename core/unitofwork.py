"""One unit of work per request: commit once on success, roll back on any failure, in one place.

Operations only flush; views and API handlers never call commit() or rollback(). After every
request (after the blueprints' after_request hooks, so an Idempotency-Key's answer commits with
the work it protects) the request's session

- commits when the answer is a success (status < 400) and no DomainError was raised;
- rolls back when the answer is an error, a DomainError was raised (even one a view caught to
  show the form again or to flash a message), or an exception escaped;
- commits anyway when the view called `keep_writes()` (the audit record of a failed signing).

A unique constraint that refuses the commit (two requests created the same thing at once) is a
409 with a Chinese message. SQLite's BUSY (and PostgreSQL's deadlock or serialization failure)
runs the whole request again, a bounded number of times, before it answers 503.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

from flask import Flask, g
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

ATTEMPTS = 4  # one run and three retries of a request that met a busy database
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
SQLITE_BUSY_CODES = {5, 6, 261, 517}  # BUSY, LOCKED, BUSY_RECOVERY, BUSY_SNAPSHOT


class RetryRequest(Exception):
    """The database was busy; the request runs again from the start in a fresh transaction."""


def keep_writes() -> None:
    """Commit what this request wrote even though it answers with an error (for example the
    audit record of a refused signing password)."""
    g.unit_keep = True


def is_busy(error: BaseException) -> bool:
    """A lock or snapshot race that a fresh transaction would not meet again."""
    original = getattr(error, "orig", error)
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", None)
        return code in SQLITE_BUSY_CODES or "database is locked" in str(original)
    return getattr(original, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_if_busy(error: BaseException) -> None:
    """Raise RetryRequest when the error is a busy database and attempts are left."""
    if is_busy(error) and g.get("unit_attempt", 0) + 1 < ATTEMPTS:
        raise RetryRequest() from error


def _finish(session: Any, response: Any, app: Flask) -> Any:
    failed = response.status_code >= 400 or g.get("unit_refused", False)
    if failed and not g.get("unit_keep", False):
        session.rollback()
        return response
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        from core.errors import duplicate_error, error_response, is_unique_violation

        if not is_unique_violation(error):
            raise
        app.logger.info("unique constraint refused a concurrent commit")
        return app.make_response(error_response(duplicate_error()))
    except (OperationalError, DBAPIError) as error:
        session.rollback()
        retry_if_busy(error)
        raise
    return response


def install(app: Flask) -> None:
    """Commit or roll back once per request; run a request again when the database was busy."""

    @app.after_request
    def _end_unit_of_work(response: Any) -> Any:
        session = g.get("db")
        if session is None:
            return response
        return _finish(session, response, app)

    dispatch = app.full_dispatch_request

    def full_dispatch_request() -> Any:
        for attempt in range(ATTEMPTS):
            g.unit_attempt = attempt
            try:
                return dispatch()
            except RetryRequest:
                session = g.pop("db", None)
                if session is not None:
                    session.rollback()
                    if not app.config.get("DB_SESSION_FACTORY"):
                        session.close()
                for name in ("unit_refused", "unit_keep", "idempotent_request"):
                    g.pop(name, None)
                app.logger.info("database busy, running the request again (attempt %s)", attempt + 2)
                time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # noqa: S311 (jitter, not secrecy)
        raise AssertionError("unreachable: the last attempt answers instead of retrying")

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]
