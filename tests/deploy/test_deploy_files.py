"""The container files say what docs/operations.md says they do. No Docker engine runs on the
build machines, so these read the files; the steps they run are the ones
test_deploy_wheel.py executes (deploy/install.sh, `yiyang init`, core.gunicorn_conf)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_scripts_are_valid_shell():
    for script in ("install.sh", "entrypoint.sh"):
        done = subprocess.run(["sh", "-n", str(DEPLOY / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_the_image_installs_with_the_tested_script_and_runs_unprivileged():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "RUN sh /src/deploy/install.sh /src /opt/yiyang" in dockerfile
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS app$", dockerfile, re.M)
    assert "python:3.11-slim" in dockerfile and "libpango-1.0-0" in dockerfile
    assert re.search(r"^USER yiyang$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.M)
    assert 'ENTRYPOINT ["/usr/local/bin/yiyang-entrypoint"]' in dockerfile
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    assert "yiyang init\n    exec gunicorn -c python:core.gunicorn_conf 'app:create_app()'" in entrypoint


def test_compose_runs_a_city():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"app1", "app2", "worker", "scheduler", "proxy", "postgres", "redis"}
    assert services["app1"]["command"] == services["app2"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"] and services["scheduler"]["command"] == ["scheduler"]
    app = services["app1"]
    assert app["environment"]["YIYANG_REDIS_URL"].startswith("redis://redis:")
    assert app["environment"]["YIYANG_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert services["proxy"]["build"]["target"] == "proxy"
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "server app1:8000" in nginx and "server app2:8000" in nginx
    assert "location = /metrics { return 404; }" in nginx
    assert "alias /usr/share/yiyang/static/;" in nginx
