"""颐养 Yiyang: the application factory. Wiring only; each step is named."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import click
from flask import Flask, g, request, session
from flask.cli import FlaskGroup
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from core.config import load_config
from core.resources import default_instance_path, resource_dir

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` (a mapping) overrides the environment, as tests do."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("YIYANG_INSTANCE_PATH") or str(default_instance_path()),
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(resource_dir("translations")))
    configure_logging(app)
    configure_db(app)
    load_definitions(app)
    configure_extensions(app)
    configure_operations(app)
    configure_jobs(app)
    configure_requests(app)
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)
    install_unit_of_work(app)
    return app


def configure_logging(app: Flask) -> None:
    from core import requestlog

    requestlog.configure(app, app.config["LOG_FORMAT"])


def configure_db(app: Flask) -> None:
    from core import db

    db.configure_db(app)


def load_definitions(app: Flask) -> None:
    """Load and validate every built-in pack; a broken pack stops the app here."""
    import instruments
    from core.config import ConfigError
    from scoring import DefinitionError

    try:
        app.extensions["yiyang.definitions"] = instruments.builtin()
    except DefinitionError as error:
        problems = "\n".join(
            f"  {e.get('source')}: {e.get('item') or '-'}: {e.get('message')}" for e in error.errors
        )
        raise ConfigError(f"内置评估工具或评定方案有错误，系统无法启动 / a built-in pack is broken:\n{problems}") from None


def configure_extensions(app: Flask) -> None:
    from accounts.operations import load_login_session
    from core import navigation
    from core.db import get_session
    from core.ratelimit import make_counter

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = None  # the server-side login session does this job
    app.extensions["yiyang.login_counter"] = make_counter(app.config.get("REDIS_URL"))
    navigation.init_app(app)

    @login_manager.user_loader
    def _load_user(token: str) -> Any:
        return load_login_session(
            session=get_session(),
            token=token,
            idle_minutes=app.config["SESSION_IDLE_MINUTES"],
            max_hours=app.config["SESSION_MAX_HOURS"],
        )


def configure_operations(app: Flask) -> None:
    """Request log lines and metrics (first, so they time every request), /healthz, /readyz,
    /metrics, and the page fonts served from the packaged report fonts."""
    from core import health, metrics, offline, requestlog, resources

    if app.config["PROXY_HOPS"]:  # client address and scheme as the proxy saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    requestlog.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    resources.init_app(app)
    offline.init_app(app)


def configure_jobs(app: Flask) -> None:
    import jobs

    jobs.init_app(app)


def select_locale() -> str:
    from flask import has_request_context

    from core.errors import wants_json

    if not has_request_context():  # a command or a job: the source language, Chinese
        return "zh"
    wanted = request.args.get("lang") or session.get("lang")
    if wanted in ("zh", "en"):
        return wanted
    if wants_json():  # an API client (/api/, or asking for JSON) says its language in Accept-Language
        return request.accept_languages.best_match(["zh", "en"], default="zh")
    return "zh"


def configure_requests(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        from core.requestlog import incoming_request_id

        g.request_id = incoming_request_id()
        g.csp_nonce = secrets.token_urlsafe(16)
        if request.args.get("lang") in ("zh", "en"):
            session["lang"] = request.args["lang"]

    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")

    @app.before_request
    def _refuse_nul_characters() -> Any:
        # No database stores U+0000 or a lone UTF-16 surrogate in text (PostgreSQL refuses the
        # first, UTF-8 cannot encode the second), in a body or a query string: say so instead
        # of failing in the driver.
        from core.errors import refuse_nul
        from core.validation import unreadable_fields

        writes = request.method in ("POST", "PUT", "PATCH")
        body = request.get_json(silent=True) if writes and request.is_json else None
        fields = unreadable_fields(request.args, request.form if writes else None, body)
        if fields:
            return refuse_nul(fields)
        return None

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("X-Request-Id", g.get("request_id", ""))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            f"script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        if app.config["YIYANG_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static":  # pages, PDFs, exports, photos: personal data, never cached
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_blueprints(app: Flask) -> None:
    import importlib

    from core.urls import IdConverter

    app.url_map.converters["int"] = IdConverter  # ids beyond BIGINT are a 404, not an overflow

    from accounts import views as account_views
    from audit import views as audit_views
    from core.api import api

    app.register_blueprint(account_views.bp)
    app.register_blueprint(audit_views.bp)

    from core.auth import public

    @app.route("/favicon.ico")
    @public
    def favicon() -> Any:
        return app.send_static_file("favicon.svg")
    from core.i18n import register_time_filters

    register_time_filters(app)
    app.jinja_env.filters["dict_without"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys}
    csrf.exempt(api)  # the API authenticates with bearer tokens, not cookies
    importlib.import_module("accounts.api")
    importlib.import_module("core.offline")  # the outbox's session check (an API route)
    from core import inbox

    inbox.init_app(app)  # the home page's inbox and GET /api/v1/inbox (counters come with each package)
    for package in ("assessment", "rating", "jobs", "instruments", "stats", "imports"):
        try:
            views = importlib.import_module(f"{package}.views")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.views"):
                raise
            continue
        app.register_blueprint(views.bp)
        try:
            importlib.import_module(f"{package}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.api":
                raise
    app.register_blueprint(api)


def register_cli(app: Flask) -> None:
    from accounts.cli import demo_command, init_command, orgs_group, users_group
    from audit.cli import audit_group
    from core.cli import backup_command, restore_command
    from core.idempotency import idempotency_group
    from core.repair import repair_state_command
    from imports.cli import import_command
    from instruments.cli import instruments_group, rate_command, score_command
    from jobs.cli import jobs_group, scheduler_command, worker_command
    from rating.cli import certificates_group, rating_group

    app.cli.add_command(init_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(orgs_group)
    app.cli.add_command(users_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(idempotency_group)
    app.cli.add_command(repair_state_command)
    app.cli.add_command(score_command)
    app.cli.add_command(rate_command)
    app.cli.add_command(instruments_group)
    app.cli.add_command(certificates_group)
    app.cli.add_command(rating_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(jobs_group)
    from jobs.exports import register_cli as register_export_cli

    register_export_cli(app)
    app.cli.add_command(import_command)


def install_unit_of_work(app: Flask) -> None:
    """Last, so its commit runs before every other after_request hook (they run in reverse order):
    work queued on commit (webhooks, jobs) is then there for the hooks that start it."""
    from core import unitofwork

    unitofwork.install(app)


def register_error_handlers(app: Flask) -> None:
    from core.errors import register

    register(app)


def _cli_app(*_args: Any) -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_cli_app, add_version_option=False)
def cli() -> None:
    """颐养 Yiyang: elder ability assessment and care facility rating."""
