"""Logs an operator can use: one line per request, JSON when YIYANG_LOG_FORMAT=json.

A request line holds the method, the route (the URL rule, `/elders/<int:elder_id>`: never the
path or the query string, which may carry ID numbers, phones or search terms), the status, the
duration in milliseconds, the user id (or `-`) and the request id. The request id is the
caller's `X-Request-ID` when it is a plain token, otherwise a new one; every answer echoes it.
No header, body, cookie or token is ever logged.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request

from core import metrics

log = logging.getLogger("yiyang.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
QUIET_LOGGERS = ("weasyprint", "weasyprint.progress", "fontTools", "alembic.runtime.plugins")
# Fields a log record may carry into JSON (set with `extra=`); nothing else of the record leaks.
FIELDS = ("method", "route", "status", "duration_ms", "user_id", "request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask, log_format: str) -> None:
    """A root handler (text or JSON) unless debugging, testing or logging is set up already."""
    root = logging.getLogger()
    if not app.debug and not app.testing and not root.handlers:  # as logging.basicConfig does
        handler = logging.StreamHandler()
        handler.setFormatter(
            JsonFormatter() if log_format == "json"
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def incoming_request_id() -> str:
    """The caller's X-Request-ID when it is a plain token of up to 64 characters, else a new id."""
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


def _user_id() -> int | None:
    """The id of the user this request already loaded (never loads one just to log it)."""
    user = g.get("api_user") or g.get("_login_user")
    user_id = getattr(user, "id", None)
    return user_id if isinstance(user_id, int) else None


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Any) -> Any:
        started = g.pop("request_started", None)
        if started is None:  # a before_request hook answered before the clock started
            return response
        seconds = time.perf_counter() - started
        route = metrics.route_label()
        metrics.observe_request(route, request.method, response.status_code, seconds)
        fields = {
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": _user_id(),
            "request_id": g.get("request_id", ""),
        }
        log.info("%s %s %s %.1f ms user=%s request=%s", fields["method"], route, fields["status"],
                 fields["duration_ms"], fields["user_id"] if fields["user_id"] is not None else "-",
                 fields["request_id"], extra=fields)
        return response
