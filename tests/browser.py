"""A live server for the browser tests: its own SQLite database, migrated and seeded like
`yiyang init` and `yiyang demo`, served on 127.0.0.1 from a thread. Playwright drives the
system Chromium (its own browser download does not work here); without Chromium the browser
tests are skipped, except in CI where they must run."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    if not CHROMIUM.exists() and not IN_CI:
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium); browser test skipped")


@contextmanager
def demo_server(instance: Path, password: str, seeders: list[Callable[..., Any]],
                prepare: Callable[[Any], None] | None = None) -> Iterator[str]:
    """Serve a freshly migrated and seeded app; yields its base URL."""
    from werkzeug.serving import make_server

    from accounts.cli import seed_accounts
    from app import create_app
    from core.db import get_engine, session_scope, upgrade_database

    url = f"sqlite:///{instance / 'yiyang.sqlite'}"
    saved = os.environ.get("YIYANG_INSTANCE_PATH")
    os.environ["YIYANG_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-secret", "DATA_KEY": "browser-data-key"})
        if prepare is not None:
            prepare(app)
        upgrade_database(url)
        with app.app_context(), session_scope(get_engine()) as session:
            context, _ = seed_accounts(session, password)
            for seed in seeders:
                seed(session=session, context=context)
    finally:
        if saved is None:
            os.environ.pop("YIYANG_INSTANCE_PATH", None)
        else:
            os.environ["YIYANG_INSTANCE_PATH"] = saved
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["yiyang.engine"].dispose()
