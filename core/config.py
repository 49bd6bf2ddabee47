"""Configuration from environment variables, with a mapping that tests pass in."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_VARS = {
    "YIYANG_ENV": "development | production (production refuses debug and a missing secret key)",
    "YIYANG_DATABASE_URL": "SQLAlchemy URL; default sqlite:///<instance>/yiyang.sqlite",
    "YIYANG_SECRET_KEY": "session signing key; generated into the instance folder when absent (not in production)",
    "YIYANG_DATA_KEY": "key for sensitive fields (ID numbers, phones, diagnoses); generated into the instance folder in development",
    "YIYANG_AUDIT_KEY": "HMAC key of the audit hash chain, kept outside the database; generated into the instance folder in development",
    "YIYANG_REDIS_URL": "redis://… for shared login rate limits and background jobs; in-process when unset",
    "YIYANG_DEMO_PASSWORD": "password of the demo users; generated and printed once when unset",
    "YIYANG_SESSION_IDLE_MINUTES": "idle timeout of a login session (default 30)",
    "YIYANG_SESSION_MAX_HOURS": "absolute lifetime of a login session (default 12)",
    "YIYANG_PUBLIC_URL": "base URL printed in certificate QR codes (default http://127.0.0.1:5000)",
    "YIYANG_DEBUG": "1 to run Flask in debug mode (refused in production)",
    "YIYANG_REQUIRED_SIGNATURES": "assessor signatures an assessment needs before review (default 2)",
    "YIYANG_LOG_FORMAT": "text (default) or json: one line per request and per log record",
    "YIYANG_METRICS_TOKEN": "bearer token /metrics requires; unset, /metrics answers loopback callers only",
    "YIYANG_PROXY_HOPS": "reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (default 0)",
    "YIYANG_TIMEZONE": "the organisation's time zone for times people read (default Asia/Shanghai)",
    "YIYANG_IDEMPOTENCY_PENDING_SECONDS": "a pending Idempotency-Key older than this is taken over (default 60)",
    "YIYANG_IDEMPOTENCY_KEEP_HOURS": "answers kept for Idempotency-Key replays (default 24; `yiyang idempotency prune`)",
    "YIYANG_EXPORT_INLINE_MAX_ROWS": "with workers (YIYANG_REDIS_URL) an export of more rows than this runs as a"
    " background job; without workers every export streams in the request (default 20000)",
    "YIYANG_VISIT_MIN_SECONDS_PER_ITEM": "a visit with less work than this per answered item is flagged to the"
    " reviewer (default 5: 60 items need at least 5 minutes)",
    "YIYANG_VISIT_MAX_DISTANCE_M": "a visit located farther than this from the elder's address coordinates is"
    " flagged (default 1000, plus the location's accuracy)",
    "YIYANG_VISIT_WORKING_HOURS": "local hours of a plausible visit, HH:MM-HH:MM, or off (default 07:00-20:00)",
    "YIYANG_SEPARATION_OF_DUTIES": "1 (default): whoever assessed or inspected a record cannot review, approve or"
    " certify it, even holding both roles; 0 turns this off",
    "YIYANG_QUALIFICATION_REQUIRED": "1: an assessor with no recorded qualification certificate cannot sign; 0 (default):"
    " only an expired one is refused",
    "YIYANG_QUALIFICATION_WARN_DAYS": "the administrator's home lists qualification certificates expiring within this"
    " many days, and expired ones (default 60)",
    "YIYANG_IMPORT_UPLOAD_HOURS": "a file uploaded for an import's dry run and never confirmed is deleted after this many"
    " hours (default 24; job imports.sweep, daily at YIYANG_SCHEDULE_IMPORT_SWEEP, default 04:30)",
}


class ConfigError(RuntimeError):
    """The application cannot start with this configuration; the message says why."""


def _instance_secret(instance_path: Path, name: str, nbytes: int = 32) -> str:
    """Read or create a random secret kept in the instance folder (development only)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _positive_int(env: Any, name: str, default: int) -> int:
    raw = str(env.get(name) or default).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} 应为正整数，而不是 {raw!r}。 {name} must be a whole number above 0.")
    return int(raw)


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply the test mapping."""
    env = os.environ
    overrides = dict(overrides or {})
    is_production = (overrides.get("YIYANG_ENV") or env.get("YIYANG_ENV", "development")) == "production"
    debug = overrides.get("DEBUG", env.get("YIYANG_DEBUG", "") in {"1", "true", "yes"})
    config: dict[str, Any] = {
        "YIYANG_ENV": "production" if is_production else "development",
        "DEBUG": debug,
        "DATABASE_URL": env.get("YIYANG_DATABASE_URL")
        or f"sqlite:///{instance_path / 'yiyang.sqlite'}",
        "REDIS_URL": env.get("YIYANG_REDIS_URL") or None,
        "PUBLIC_URL": env.get("YIYANG_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SESSION_IDLE_MINUTES": int(env.get("YIYANG_SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(env.get("YIYANG_SESSION_MAX_HOURS", "12")),
        "API_TOKEN_IDLE_HOURS": int(env.get("YIYANG_API_TOKEN_IDLE_HOURS", "72")),
        "QUALIFICATION_REQUIRED": env.get("YIYANG_QUALIFICATION_REQUIRED", "0").strip().lower() in {"1", "true", "yes"},
        "QUALIFICATION_WARN_DAYS": int(env.get("YIYANG_QUALIFICATION_WARN_DAYS", "60")),
        # Password attempts (accounts/throttle.py): free failures per account in 15 minutes, then an
        # exponential wait; and failures a minute from one client address, whatever the account.
        "LOGIN_FAILURES_FREE": int(env.get("YIYANG_LOGIN_FAILURES_FREE", "10")),
        "PASSWORD_FAILURES_PER_IP": int(env.get("YIYANG_PASSWORD_FAILURES_PER_IP", "30")),
        # Requests a minute from one client address to each public page or endpoint (core.ratelimit).
        "PUBLIC_REQUESTS_PER_MINUTE": int(env.get("YIYANG_PUBLIC_REQUESTS_PER_MINUTE", "120")),
        "IDEMPOTENCY_PENDING_SECONDS": int(env.get("YIYANG_IDEMPOTENCY_PENDING_SECONDS", "60")),
        "IDEMPOTENCY_KEEP_HOURS": int(env.get("YIYANG_IDEMPOTENCY_KEEP_HOURS", "24")),
        "TIMEZONE": env.get("YIYANG_TIMEZONE", "Asia/Shanghai"),
        # GB/T 42195 has two assessors present; some districts ask for one or three.
        "ASSESSMENT_REQUIRED_SIGNATURES": int(env.get("YIYANG_REQUIRED_SIGNATURES", "2")),
        # Plausibility of a visit (assessment/visit_checks.py): warnings for the reviewer, never a block.
        "VISIT_MIN_SECONDS_PER_ITEM": float(env.get("YIYANG_VISIT_MIN_SECONDS_PER_ITEM", "5")),
        "VISIT_MAX_DISTANCE_M": float(env.get("YIYANG_VISIT_MAX_DISTANCE_M", "1000")),
        "VISIT_WORKING_HOURS": env.get("YIYANG_VISIT_WORKING_HOURS", "07:00-20:00"),
        "LOG_FORMAT": "json" if env.get("YIYANG_LOG_FORMAT", "").lower() == "json" else "text",
        "METRICS_TOKEN": env.get("YIYANG_METRICS_TOKEN") or None,
        "PROXY_HOPS": int(env.get("YIYANG_PROXY_HOPS") or 0),
        "EXPORT_INLINE_MAX_ROWS": int(env.get("YIYANG_EXPORT_INLINE_MAX_ROWS") or 20000),
        "SEPARATION_OF_DUTIES": env.get("YIYANG_SEPARATION_OF_DUTIES", "1").strip().lower()
        not in {"0", "false", "no", "off"},
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": is_production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Bulk import (docs/import.md): rows per file, and problems a page or a job keeps listed.
        "IMPORT_MAX_ROWS": int(env.get("YIYANG_IMPORT_MAX_ROWS", "200000")),
        "IMPORT_REPORT_LIMIT": int(env.get("YIYANG_IMPORT_REPORT_LIMIT", "1000")),
        # A file checked but never confirmed is deleted after this many hours (imports.uploads).
        "IMPORT_UPLOAD_HOURS": _positive_int(env, "YIYANG_IMPORT_UPLOAD_HOURS", 24),
        # A confirmed import runs as a job when workers are configured; 1 or 0 forces it either way.
        "IMPORT_AS_JOB": {"1": True, "0": False}.get(env.get("YIYANG_IMPORT_AS_JOB", "").strip()),
        "TESTING": False,
    }
    secret = env.get("YIYANG_SECRET_KEY")
    data_key = env.get("YIYANG_DATA_KEY")
    config.update(overrides)
    if "SECRET_KEY" not in overrides:
        if secret:
            config["SECRET_KEY"] = secret
        elif is_production:
            raise ConfigError(
                "YIYANG_ENV=production 需要显式设置 YIYANG_SECRET_KEY（生产环境不自动生成会话密钥）。"
                " Production needs an explicit YIYANG_SECRET_KEY."
            )
        else:
            config["SECRET_KEY"] = _instance_secret(instance_path, "secret_key")
    if "DATA_KEY" not in overrides:
        if data_key:
            config["DATA_KEY"] = data_key
        elif is_production:
            raise ConfigError(
                "YIYANG_ENV=production 需要显式设置 YIYANG_DATA_KEY（敏感信息加密密钥）。"
                " Production needs an explicit YIYANG_DATA_KEY."
            )
        else:
            config["DATA_KEY"] = _instance_secret(instance_path, "data_key")
    if is_production and config["DEBUG"]:
        raise ConfigError(
            "YIYANG_ENV=production 时不允许开启调试模式（YIYANG_DEBUG）。"
            " Debug mode is refused in production."
        )
    if "AUDIT_KEY" not in overrides:
        if env.get("YIYANG_AUDIT_KEY"):
            config["AUDIT_KEY"] = env["YIYANG_AUDIT_KEY"]
        elif is_production:
            raise ConfigError(
                "YIYANG_ENV=production 需要显式设置 YIYANG_AUDIT_KEY（审计链密钥）。"
                " Production needs an explicit YIYANG_AUDIT_KEY."
            )
        else:
            config["AUDIT_KEY"] = _instance_secret(instance_path, "audit_key")
    return config
