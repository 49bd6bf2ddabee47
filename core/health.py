"""/healthz and /readyz for load balancers and orchestrators: no login, no data in them.

/healthz answers 200 while the process serves requests. /readyz answers 200 only when the
database answers, Redis answers (when YIYANG_REDIS_URL is set) and the database schema is at
every migration head; otherwise 503 naming the failing check (details go to the log only).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from core.auth import public

log = logging.getLogger("yiyang.health")
REDIS_TIMEOUT_S = 2.0


@cache
def migration_heads() -> frozenset[str]:
    """The head revisions of the shipped migrations (read once per process)."""
    from alembic.script import ScriptDirectory

    from core.db import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def check_database() -> dict[str, str]:
    """{'database': ok|down, 'migrations': ok|behind|unknown}."""
    from alembic.migration import MigrationContext

    from core.db import get_engine

    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # any failure to reach the database is "not ready"
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return {"database": "down", "migrations": "unknown"}
    if current != set(migration_heads()):
        log.warning("readiness: database at %s, migrations at %s: run `yiyang init`",
                    sorted(current) or "nothing", sorted(migration_heads()))
        return {"database": "ok", "migrations": "behind"}
    return {"database": "ok", "migrations": "ok"}


def check_redis() -> dict[str, str]:
    """{'redis': ok|down} when Redis is configured, else nothing."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return {}
    client = current_app.extensions.get("yiyang.health_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S,
                                      socket_connect_timeout=REDIS_TIMEOUT_S)
        current_app.extensions["yiyang.health_redis"] = client
    try:
        client.ping()
    except Exception as exc:  # any failure to reach Redis is "not ready"
        log.warning("readiness: Redis unreachable (%s)", type(exc).__name__)
        return {"redis": "down"}
    return {"redis": "ok"}


@public
def healthz() -> Any:
    """The process is up and answering."""
    return jsonify({"status": "ok"})


@public
def readyz() -> Any:
    """Ready for traffic: database, Redis (when configured), schema at head."""
    checks = {**check_database(), **check_redis()}
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    if not ready:
        response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
