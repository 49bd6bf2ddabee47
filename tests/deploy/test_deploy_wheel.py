"""The wheel is the application: built and installed by deploy/install.sh (the script the
container image runs) into a new virtual environment outside the checkout, it migrates a
database, adds the demo data and serves pages, stylesheets, fonts, a PDF, health and metrics
under gunicorn with two workers."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from hashlib import sha256
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "Wheel-Test-Pass-42"
pytestmark = pytest.mark.slow


def _wheelhouse() -> Path:
    """Every dependency and build requirement as wheels on disk, fetched once per pyproject.toml
    (pip asks the package index about each of ~45 packages otherwise: minutes). The install
    itself is a full resolution against it, exactly as deploy/install.sh does it anywhere."""
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    house = ROOT / ".venv" / f"wheelhouse-{sha256(pyproject).hexdigest()[:12]}"
    if house.is_dir():
        return house
    meta = tomllib.loads(pyproject.decode())
    wanted = [*meta["build-system"]["requires"], *meta["project"]["dependencies"]]
    partial = house.with_name(f"{house.name}.{os.getpid()}")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(partial), *wanted],
                   check=True, timeout=900, capture_output=True)
    try:
        partial.replace(house)
    except OSError:  # another run finished the same wheelhouse first
        shutil.rmtree(partial, ignore_errors=True)
    return house


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would point back into the checkout."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PROMETHEUS_MULTIPROC_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("YIYANG_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _wait_ready(base: str, server: subprocess.Popen[bytes], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the workers still booting
            pass
        time.sleep(0.3)
    pytest.fail("the installed app did not become ready")


@pytest.mark.skipif(not shutil.which("tar") or not shutil.which("timeout"), reason="needs tar and timeout")
def test_installed_wheel_serves_pages_pdfs_health_and_metrics(tmp_path: Path) -> None:
    venv, elsewhere, metrics_dir = tmp_path / "venv", tmp_path / "elsewhere", tmp_path / "metrics"
    elsewhere.mkdir()
    env = _clean_env(PYTHON=sys.executable, YIYANG_DEMO_PASSWORD=DEMO_PASSWORD,
                     PIP_NO_INDEX="1", PIP_FIND_LINKS=str(_wheelhouse()))
    _run(["sh", str(ROOT / "deploy" / "install.sh"), str(ROOT), str(venv)], elsewhere, env, 900)

    bin_dir = venv / "bin"
    where = _run([str(bin_dir / "python"), "-c", "import app, core; print(app.__file__, core.__file__)"],
                 elsewhere, env, 60)
    assert str(ROOT) not in where and str(venv) in where, where
    _run([str(bin_dir / "yiyang"), "init"], elsewhere, env, 300)
    _run([str(bin_dir / "yiyang"), "demo"], elsewhere, env, 300)
    # No instance folder was made in the working directory: an install keeps it under its prefix.
    assert (venv / "var" / "yiyang-instance" / "yiyang.sqlite").is_file()
    assert not (elsewhere / "instance").exists()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    server_env = {**env, "YIYANG_BIND": f"127.0.0.1:{port}", "YIYANG_WORKERS": "2",
                  "YIYANG_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with log_path.open("wb") as log_file:
        # `timeout` stops the server even if this test process dies first.
        server = subprocess.Popen(
            ["timeout", "300", str(bin_dir / "gunicorn"), "-c", "python:core.gunicorn_conf",
             "app:create_app()"],
            cwd=elsewhere, env=server_env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            _wait_ready(base, server, 90)
            _check_site(base)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
    _check_log(log_path.read_text(encoding="utf-8", errors="replace"))


def _check_site(base: str) -> None:
    http = requests.Session()
    assert http.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}

    login = http.get(f"{base}/login", timeout=10)
    assert login.status_code == 200 and "登录" in login.text
    stylesheets = re.findall(r'<link[^>]+href="(/static/[^"]+\.css)[^"]*"', login.text)
    assert stylesheets, "the login page links no stylesheet"
    for href in stylesheets:
        css = http.get(base + href, timeout=10)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css"), href
    font = http.get(f"{base}/static/fonts/NotoSansSC-Regular.woff2", timeout=10)
    assert font.status_code == 200 and font.content[:4] == b"wOF2"

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text) or \
        re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token, "no CSRF token in the login form"
    signed_in = http.post(f"{base}/login", timeout=30, allow_redirects=False, data={
        "csrf_token": token.group(1), "username": "assessor1", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302, signed_in.text[:500]
    home = http.get(f"{base}/", timeout=10)
    assert home.status_code == 200 and re.search(r"[\u4e00-\u9fff]", home.text)

    pdf = http.get(f"{base}/assessments/forms/gbt42195-2022.pdf", timeout=60)
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    # Every request above was counted by one of the two workers; /metrics adds them up.
    metrics = http.get(f"{base}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert re.search(r'yiyang_http_requests_total\{method="GET",route="/login",status="200"\} 1\.0',
                     metrics.text), metrics.text[:2000]
    assert 'yiyang_pdf_render_seconds_count{template="blank_form.html"} 1.0' in metrics.text

    echoed = http.get(f"{base}/healthz", headers={"X-Request-ID": "probe-7"}, timeout=10)
    assert echoed.headers["X-Request-ID"] == "probe-7"


def _check_log(text: str) -> None:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line.get("logger") == "yiyang.request"]
    assert any(line["route"] == "/login" and line["status"] == 200 for line in requests_logged), text[-3000:]
    probe = [line for line in requests_logged if line["request_id"] == "probe-7"]
    assert probe and probe[0]["route"] == "/healthz" and probe[0]["duration_ms"] >= 0
    signed_in = [line for line in requests_logged if line["route"] == "/assessments/forms/<instrument>.pdf"]
    assert signed_in and isinstance(signed_in[0]["user_id"], int)
    assert DEMO_PASSWORD not in text
