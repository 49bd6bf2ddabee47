"""Several processes on one PostgreSQL and one Redis: two gunicorn servers and a worker.

An assessment autosaved through one server continues on the other; a certificate batch started
on one is processed by the worker and downloaded from the other; a reminder email arrives at a
local SMTP server; a webhook arrives at a local receiver with a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import shared_extensions
from tests.jobs.conftest import Mailbox, Receiver, free_port

pytestmark = [pytest.mark.services, pytest.mark.postgres]

PG_URL = os.environ.get("YIYANG_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("YIYANG_TEST_REDIS_URL", "")
PASSWORD = "Demo-Services-42"
SECRET = "services-secret-0123456789"
BIN = Path(sys.executable).parent
LIFETIME_S = 600
T = 90  # seconds a request may take on a loaded machine  # every process started here stops by itself after this, whatever happens


def _reachable() -> str | None:
    if not PG_URL.startswith("postgresql"):
        return "set YIYANG_TEST_DATABASE_URL to a PostgreSQL database"
    if not REDIS_URL:
        return "set YIYANG_TEST_REDIS_URL to a Redis server"
    try:
        from redis import Redis

        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable ({type(exc).__name__})"
    if not (BIN / "gunicorn").exists():
        return "gunicorn is not installed in this environment"
    return None


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    reason = _reachable()
    if reason:
        pytest.skip(f"multi-process test skipped: {reason}")
    from core.db import make_engine, upgrade_database

    schema = f"svc_{os.getpid()}"
    engine = make_engine(PG_URL)
    shared_extensions(engine)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    upgrade_database(url)
    instance = Path(tempfile.mkdtemp(prefix="yiyang-services-"))
    mailbox = Mailbox()
    smtp_port = free_port()
    from aiosmtpd.controller import Controller

    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    receiver = Receiver().__enter__()
    env = {**os.environ, "YIYANG_DATABASE_URL": url, "YIYANG_REDIS_URL": REDIS_URL,
           "YIYANG_JOBS_QUEUE": f"yiyang-test-{os.getpid()}", "YIYANG_INSTANCE_PATH": str(instance),
           "YIYANG_SECRET_KEY": "services-secret-key", "YIYANG_DATA_KEY": "services-data-key",
           "YIYANG_DEMO_PASSWORD": PASSWORD, "YIYANG_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
           "YIYANG_MAIL_FROM": "yiyang@example.org", "YIYANG_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
           "YIYANG_SCHEDULE_REMINDERS": "off", "YIYANG_SCHEDULE_ESCALATE": "off",
           "YIYANG_SCHEDULE_AUDIT_VERIFY": "off"}
    env.pop("YIYANG_DEBUG", None)
    subprocess.run([str(BIN / "yiyang"), "demo"], env=env, check=True, capture_output=True, timeout=300)
    _extra_grade(env)
    processes: list[subprocess.Popen[bytes]] = []
    ports = [free_port(), free_port()]
    logs = instance / "logs"
    logs.mkdir()
    try:
        from gunicorn.config import KNOWN_SETTINGS

        # newer gunicorn opens a control socket at one fixed path: two servers would share it
        quiet = ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []
        commands = {f"server-{port}": [str(BIN / "gunicorn"), "-w", "1", "--threads", "4", *quiet,
                                       "-b", f"127.0.0.1:{port}", "app:create_app()"] for port in ports}
        commands["worker"] = [str(BIN / "yiyang"), "worker"]
        for name, command in commands.items():
            with open(logs / f"{name}.log", "wb") as log:  # the child keeps its own handle
                processes.append(subprocess.Popen(["timeout", str(LIFETIME_S), *command], env=env,
                                                  cwd=Path(__file__).resolve().parents[2],
                                                  stdout=log, stderr=subprocess.STDOUT))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        _wait_up(bases, logs)
        yield {"a": bases[0], "b": bases[1], "mailbox": mailbox, "receiver": receiver, "logs": logs}
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        controller.stop()
        receiver.__exit__(None, None, None)
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


def _extra_grade(env: dict[str, str]) -> None:
    """One more approved grade, without its certificate yet (the demo issues all of its own)."""
    script = (
        "from app import create_app\n"
        "from core.db import session_scope, get_engine\n"
        "from sqlmodel import select\n"
        "from accounts.models import User\n"
        "from rating.models import Facility\n"
        "from rating import operations as ops\n"
        "from rating.demo import STARS5, _inspect\n"
        "app = create_app()\n"
        "with app.app_context(), session_scope(get_engine()) as s:\n"
        "    users = {u.username: u for u in s.exec(select(User))}\n"
        "    center = s.exec(select(Facility).where(Facility.name == '和平街道养老服务中心')).one()\n"
        "    i = _inspect(s, users['inspector1'], center, 'community-star', STARS5)\n"
        "    ops.approve_inspection(session=s, actor=users['admin'], inspection=i)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=120,
                   cwd=Path(__file__).resolve().parents[2])


def _wait_up(bases: list[str], logs: Path) -> None:
    import requests

    deadline = time.monotonic() + 240  # a loaded CI machine boots slowly
    for base in bases:
        while True:
            try:
                if requests.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                shown = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs.iterdir())
                raise AssertionError(f"servers did not start:\n{shown}")
            time.sleep(0.3)


def _token(base: str, username: str) -> dict[str, str]:
    import requests

    answer = requests.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=T)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _until(check: Any, what: str, logs: Path, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    worker = (logs / "worker.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"{what} did not happen in {seconds} s; worker log:\n{worker}")


def test_autosave_on_one_server_continues_on_the_other(stack):
    import requests

    a, b = stack["a"], stack["b"]
    token = _token(a, "assessor1")
    from tests.factories import make_id_number

    # A new elder: the demo's elders may already have their one open assessment.
    elder = requests.post(f"{a}/api/v1/elders", headers=token, timeout=T, json={
        "name": "跨服务器老人", "gender": "female", "birth_date": "1946-06-06",
        "id_number": make_id_number("1946-06-06", 321), "address": "和平街 9 号"})
    assert elder.status_code == 201, elder.text
    created = requests.post(f"{a}/api/v1/assessments", json={"elder_id": elder.json()["id"]}, headers=token,
                            timeout=T).json()
    first = requests.put(f"{a}/api/v1/assessments/{created['id']}/answers",
                         json={"answers": {"B.1.1": 10}, "version": created["version"]}, headers=token, timeout=T)
    assert first.status_code == 200, first.text
    second = requests.put(f"{b}/api/v1/assessments/{created['id']}/answers",
                          json={"answers": {"B.1.1": 10, "B.1.2": 5}, "version": first.json()["version"]},
                          headers=token, timeout=T)
    assert second.status_code == 200, second.text
    stale = requests.put(f"{a}/api/v1/assessments/{created['id']}/answers",
                         json={"answers": {"B.1.1": 0}, "version": first.json()["version"]}, headers=token, timeout=T)
    assert stale.status_code == 409  # the other server's save is seen here
    shown = requests.get(f"{a}/api/v1/assessments/{created['id']}", headers=token, timeout=T).json()
    assert shown["answers"]["B.1.1"] == 10 and shown["answers"]["B.1.2"] == 5


def test_certificate_batch_on_one_server_processed_by_worker_downloaded_from_other(stack):
    import requests

    a, b, receiver = stack["a"], stack["b"], stack["receiver"]
    token = _token(a, "admin")
    subscribed = requests.post(f"{a}/api/v1/webhooks", json={"url": receiver.url, "events": ["certificate.issued"],
                                                             "secret": SECRET}, headers=token, timeout=T)
    assert subscribed.status_code == 201, subscribed.text
    started = requests.post(f"{a}/api/v1/jobs", json={"kind": "certificates.issue"}, headers=token, timeout=T)
    assert started.status_code == 202 and started.json()["status"] == "queued"
    job_id = started.json()["id"]

    def finished() -> Any:
        body = requests.get(f"{b}/api/v1/jobs/{job_id}", headers=token, timeout=T).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "finished" else None

    body = _until(finished, "the certificate job", stack["logs"])
    assert body["result"] == {"issued": 1} and body["download_url"]
    try:
        download = requests.get(f"{b}{body['download_url']}", headers=token, timeout=T)
    except requests.RequestException:
        from core.db import make_engine
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT pid, state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity WHERE datname = current_database()")).all()
        engine.dispose()
        logs = "\n".join(p.name + ":\n" + p.read_text(errors="replace")[-3000:] for p in stack["logs"].iterdir())
        raise AssertionError(f"{rows}\n{logs}") from None
    assert download.status_code == 200
    (name,) = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert zipfile.ZipFile(io.BytesIO(download.content)).read(name).startswith(b"%PDF")

    hook = _until(lambda: receiver.received, "the webhook", stack["logs"])[0]
    assert hook["headers"]["X-Yiyang-Event"] == "certificate.issued"
    timestamp = hook["headers"]["X-Yiyang-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + hook["body"], hashlib.sha256).hexdigest()
    assert hook["headers"]["X-Yiyang-Signature"] == f"sha256={expected}"
    assert hook["json"]["data"]["serial"] + ".pdf" == name


def test_reminder_email_arrives(stack):
    import requests

    a, b, mailbox = stack["a"], stack["b"], stack["mailbox"]
    token = _token(b, "admin")
    started = requests.post(f"{b}/api/v1/jobs", json={"kind": "reminders"}, headers=token, timeout=T).json()

    def done() -> Any:
        body = requests.get(f"{a}/api/v1/jobs/{started['id']}", headers=token, timeout=T).json()
        return body if body["status"] in ("finished", "failed") else None

    body = _until(done, "the reminders job", stack["logs"])
    assert body["status"] == "finished" and body["result"]["emails"] >= 1, body
    mail = _until(lambda: [m for m in mailbox.messages if m["To"] == "inspector1@example.org"],
                  "the reminder email", stack["logs"])[0]
    assert mail["Subject"].startswith("颐养提醒") and "已逾期" in mail.get_content()
