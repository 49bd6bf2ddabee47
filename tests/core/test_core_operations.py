"""What an operator relies on: /healthz, /readyz, /metrics and one log line per request."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from prometheus_client import REGISTRY

from core import metrics
from core.db import make_engine
from core.requestlog import JsonFormatter
from tests.conftest import TEST_PASSWORD, api_token
from tests.factories import UserFactory

ELDER = {"name": "周桂兰", "gender": "female", "birth_date": "1949-12-31",
         "id_number": "11010519491231002X", "phone": "13912345678", "address": "和平街 3 号"}


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@contextmanager
def _engine(app: Any, url: str) -> Iterator[None]:
    """The app talks to another database for the duration of the block."""
    engine, original = make_engine(url), app.extensions["yiyang.engine"]
    app.extensions["yiyang.engine"] = engine
    try:
        yield
    finally:
        app.extensions["yiyang.engine"] = original
        engine.dispose()


@contextmanager
def _config(app: Any, **values: Any) -> Iterator[None]:
    saved = {key: app.config.get(key) for key in values}
    app.config.update(values)
    app.extensions.pop("yiyang.health_redis", None)
    try:
        yield
    finally:
        app.config.update(saved)
        app.extensions.pop("yiyang.health_redis", None)


def test_healthz_needs_no_login_and_says_only_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_fails_when_the_database_is_down(app, client):
    with _engine(app, "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "down", "migrations": "unknown"}
    assert response.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200  # up, just not ready


def test_readyz_fails_until_the_migrations_are_at_head(app, client, tmp_path):
    from alembic import command

    from core.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(alembic_config(url), "0001_accounts")
    with _engine(app, url):
        behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.get_json()["checks"] == {"database": "ok", "migrations": "behind"}


def test_readyz_checks_redis_when_it_is_configured(app, client):
    with _config(app, REDIS_URL="redis://127.0.0.1:9/0"):
        down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["checks"]["redis"] == "down"
    redis_url = os.environ.get("YIYANG_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("set YIYANG_TEST_REDIS_URL to check a reachable Redis")
    with _config(app, REDIS_URL=redis_url):
        up = client.get("/readyz")
    assert up.status_code == 200 and up.get_json()["checks"]["redis"] == "ok"


def test_metrics_count_requests_by_route_and_change_after_a_request(client):
    before = _sample("yiyang_http_requests_total", route="/healthz", method="GET", status="200")
    client.get("/healthz")
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    after = _sample("yiyang_http_requests_total", route="/healthz", method="GET", status="200")
    assert after == before + 2
    assert f'yiyang_http_requests_total{{method="GET",route="/healthz",status="200"}} {after}' in text
    assert 'yiyang_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    client.get("/no/such/page/13800138000")
    assert _sample("yiyang_http_requests_total", route="unmatched", method="GET", status="404") >= 1
    assert "13800138000" not in client.get("/metrics").get_data(as_text=True)


def test_metrics_answer_loopback_only_without_a_token(client):
    assert client.get("/metrics").status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 404


def test_metrics_token_is_required_when_set(app, client):
    with _config(app, METRICS_TOKEN="s3cret-token"):
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
        right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert right.status_code == 200 and b"yiyang_http_requests_total" in right.data


def test_login_failures_are_counted(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    before = _sample("yiyang_login_failures_total")
    client.post("/login", data={"username": user.username, "password": "wrong-password"})
    client.post("/api/v1/auth/login", json={"username": user.username, "password": "wrong"})
    assert _sample("yiyang_login_failures_total") == before + 2


def test_conflicting_saves_are_counted(client, org_tree):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = api_token(client, user, TEST_PASSWORD)
    before = _sample("yiyang_edit_conflicts_total", route="/api/v1/elders")
    assert client.post("/api/v1/elders", json=ELDER, headers=headers).status_code == 201
    assert client.post("/api/v1/elders", json=ELDER, headers=headers).status_code == 409
    assert _sample("yiyang_edit_conflicts_total", route="/api/v1/elders") == before + 1


def test_pdf_render_time_is_observed(app):
    from reports.render import render_html

    before = _sample("yiyang_pdf_render_seconds_count", template="probe.html")
    assert render_html("<p>颐养</p>", template="probe.html").startswith(b"%PDF")
    assert _sample("yiyang_pdf_render_seconds_count", template="probe.html") == before + 1
    assert _sample("yiyang_pdf_render_seconds_sum", template="probe.html") > 0


def test_job_sources_report_queue_depth_and_failures(client):
    def source() -> list[tuple[str, int, int]]:
        return [("reports", 7, 2)]

    metrics.register_job_source(source)
    metrics.note_job_failure("reports.zip")
    try:
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        metrics._job_sources.remove(source)
    assert 'yiyang_job_queue_depth{queue="reports"} 7.0' in text
    assert 'yiyang_jobs_failed{queue="reports"} 2.0' in text
    assert 'yiyang_job_failures_total{kind="reports.zip"}' in text


def test_one_log_line_per_request_without_personal_data(client, org_tree, caplog):
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    headers = api_token(client, user, TEST_PASSWORD)
    caplog.set_level(logging.INFO, logger="yiyang.request")
    caplog.clear()
    response = client.get("/api/v1/elders?q=11010519491231002X&phone=13912345678",
                          headers={**headers, "X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    lines = [r for r in caplog.records if r.name == "yiyang.request"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.method, record.route, record.status, record.user_id, record.request_id) == (
        "GET", "/api/v1/elders", response.status_code, user.id, "req-42")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["route"] == "/api/v1/elders" and entry["duration_ms"] >= 0 and entry["level"] == "INFO"
    written = caplog.text + json.dumps(entry)
    for secret in ("11010519491231002X", "13912345678", headers["Authorization"].split()[1]):
        assert secret not in written


def test_request_ids_from_outside_are_plain_tokens_or_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123.x"})
    assert kept.headers["X-Request-ID"] == "abc-123.x"
    for hostile in ("a b", "x" * 65, "id\u202etxt", "<script>"):
        replaced = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert replaced != hostile and len(replaced) == 16
