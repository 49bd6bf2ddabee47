"""Background jobs, schedules, notifications and webhooks (docs/jobs.md).

`init_app(app)` sets up the file storage and the queue; the kinds register themselves on
import: the built-in ones in `jobs.kinds`, and any package's own in its `jobs` module
(`assessment/jobs.py`, `rating/jobs.py`, …), so adding a kind is one `@register(...)`.
"""

from __future__ import annotations

import importlib

from flask import Flask

KIND_MODULES = ["jobs.kinds"]
PACKAGES = ("accounts", "assessment", "rating", "audit", "instruments", "reports")


def load_kinds() -> None:
    for module in KIND_MODULES:
        importlib.import_module(module)
    for package in PACKAGES:
        try:
            importlib.import_module(f"{package}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.jobs"):
                raise


def init_app(app: Flask) -> None:
    from core import storage
    from jobs import events, queue

    load_kinds()
    storage.init_app(app)
    queue.init_app(app)
    assert events.EVENTS  # the after-commit hook is installed on import

    def unread_notices() -> int:
        from jobs.views import unread_count

        return unread_count()

    app.jinja_env.globals["unread_notices"] = unread_notices
