"""Prometheus metrics at /metrics (prometheus-client).

What is counted: every request by route (the URL rule, never the path with its ids or query),
method and status, with its latency; PDF render time by template; edit conflicts (409 answers
to saves, mostly autosaves that met another device's edit); failed sign-ins; and, from whatever
job system registers a source, queue depth and failed jobs.

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory writable by every
worker (deploy/gunicorn.conf.py empties it on start and marks dead workers); each worker then
writes its samples there and /metrics adds them up, whichever worker answers.

Access: with YIYANG_METRICS_TOKEN set, only `Authorization: Bearer TOKEN`; unset, only
requests from a loopback address. The reverse proxy does not pass /metrics on.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator

from flask import Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.auth import public

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PDF_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
SAVE_METHODS = frozenset({"POST", "PUT", "PATCH"})
LOGIN_ROUTES = frozenset({"/login", "/api/v1/auth/login"})  # a wrong password answers 401 there

REQUESTS = Counter("yiyang_http_requests_total", "Requests answered, by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("yiyang_http_request_duration_seconds", "Time to answer a request, by route",
                    ["route", "method"], buckets=LATENCY_BUCKETS)
PDF_RENDER = Histogram("yiyang_pdf_render_seconds", "Time to render one PDF, by template",
                       ["template"], buckets=PDF_BUCKETS)
EDIT_CONFLICTS = Counter("yiyang_edit_conflicts_total",
                         "Saves refused with 409 because the record changed meanwhile (autosave conflicts)",
                         ["route"])
LOGIN_FAILURES = Counter("yiyang_login_failures_total", "Failed sign-ins (page and API)")
JOB_FAILURES = Counter("yiyang_job_failures_total", "Background jobs that failed, by kind", ["kind"])

JobSource = Callable[[], Iterable[tuple[str, int, int]]]
_job_sources: list[JobSource] = []
_sources_lock = threading.Lock()


def route_label() -> str:
    """The URL rule that answered (`/assessments/<int:assessment_id>`), or `unmatched`."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)
    if status == 409 and method in SAVE_METHODS:
        EDIT_CONFLICTS.labels(route).inc()
    if status == 401 and method == "POST" and route in LOGIN_ROUTES:
        LOGIN_FAILURES.inc()


def observe_pdf_render(template: str | None, seconds: float) -> None:
    """Called by reports.render after each successful render."""
    PDF_RENDER.labels(template or "html").observe(seconds)


def note_job_failure(kind: str) -> None:
    """A job system calls this when a job fails for good (after its retries)."""
    JOB_FAILURES.labels(kind).inc()


def register_job_source(source: JobSource) -> None:
    """A job system registers `source() -> [(queue, queued, failed), ...]`, read at each scrape
    (for example from Redis), so the figures are the queue's, not one process's."""
    with _sources_lock:
        if source not in _job_sources:
            _job_sources.append(source)


class JobQueueCollector(Collector):
    """yiyang_job_queue_depth and yiyang_jobs_failed from the registered job sources."""

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("yiyang_job_queue_depth", "Jobs waiting in a queue", labels=["queue"])
        failed = GaugeMetricFamily("yiyang_jobs_failed", "Failed jobs kept by a queue", labels=["queue"])
        with _sources_lock:
            sources = list(_job_sources)
        for source in sources:
            try:
                rows = list(source())
            except Exception:  # a queue that cannot be read must not break the scrape
                logging.getLogger(__name__).warning("job metrics source failed", exc_info=True)
                continue
            for queue, queued, failures in rows:
                depth.add_metric([queue], queued)
                failed.add_metric([queue], failures)
        yield depth
        yield failed


_JOBS = JobQueueCollector()
REGISTRY.register(_JOBS)


def _registry() -> CollectorRegistry:
    """This process's registry, or every worker's samples added up in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_JOBS)
    return registry


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    return _loopback(request.remote_addr)


@public
def metrics_view() -> Response:
    """Prometheus text format; a bearer token or a loopback caller (see the module doc)."""
    if not _allowed():
        if current_app.config.get("METRICS_TOKEN"):
            response = Response("指标需要令牌 / metrics need the bearer token\n", status=401,
                                mimetype="text/plain")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        abort(404)  # not there for anybody but the machine itself
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
