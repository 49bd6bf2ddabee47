"""gunicorn settings for Yiyang: `gunicorn -c python:core.gunicorn_conf 'app:create_app()'`.

The container (deploy/Dockerfile) and the installed-wheel test both serve with this file.
Environment: YIYANG_BIND (default 0.0.0.0:8000), YIYANG_WORKERS (default 2 per core, at most
8), YIYANG_THREADS (default 2), PROMETHEUS_MULTIPROC_DIR (metrics of every worker, see
core/metrics.py: emptied here when gunicorn starts, dead workers' gauges dropped).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

bind = os.environ.get("YIYANG_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("YIYANG_WORKERS") or min(2 * (os.cpu_count() or 1), 8))
threads = int(os.environ.get("YIYANG_THREADS") or 2)
# A PDF render stops itself after 30 s (reports.render); a worker silent for longer is stuck.
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = None  # Yiyang writes one line per request itself (core/requestlog.py)
errorlog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
max_requests = 2000  # recycle workers now and then; PDF libraries hold on to memory
max_requests_jitter = 200


def on_starting(server: Any) -> None:
    """Start the metrics of this server from zero: stale files would add old workers' counts."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
