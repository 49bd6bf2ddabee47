"""Background jobs, schedules, notifications and webhooks (docs/jobs.md).

`init_app(app)` sets up the file storage and the queue; the kinds of `KIND_MODULES` register
themselves on import. Another package adds a kind by registering it in a module listed here.
"""

from __future__ import annotations

import importlib

from flask import Flask

KIND_MODULES = ["jobs.kinds"]


def load_kinds() -> None:
    for module in KIND_MODULES:
        importlib.import_module(module)


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
