"""Carrying work to whoever runs it. Three ways, one interface:

- `redis` (YIYANG_REDIS_URL set): RQ queues on Redis; `yiyang worker` processes take the work;
  a delayed retry waits in RQ's scheduled registry (the worker runs RQ's scheduler).
- `thread` (the laptop default): one background thread per app process.
- `eager` (tests): work waits in a list until `drain()` or the end of the request.

Only a task name and a row id travel; the row says what to do and whether it is already done.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask

log = logging.getLogger("yiyang.jobs")

QUEUE_NAME = "yiyang"
# task name -> "module:function"; the function takes (app, id) and returns a retry delay or None
TASKS = {"job": "jobs.runner:run_job", "webhook": "jobs.webhooks:deliver"}


def _task(name: str) -> Callable[[Flask, int], float | None]:
    import importlib

    module, func = TASKS[name].split(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


def run_task(app: Flask, name: str, ident: int) -> float | None:
    """Run one task inside an app context; the delay after which to try again, or None."""
    with app.app_context():
        return _task(name)(app, ident)


class EagerQueue:
    mode = "eager"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pending: list[tuple[str, int]] = []
        self._draining = False

    def enqueue(self, name: str, ident: int, delay: float = 0) -> None:
        if delay <= 0:  # a delayed retry waits for the scheduler's sweep
            self.pending.append((name, ident))

    def drain(self) -> int:
        if self._draining:
            return 0
        self._draining = True
        done = 0
        try:
            while self.pending:
                name, ident = self.pending.pop(0)
                run_task(self.app, name, ident)
                done += 1
        finally:
            self._draining = False
        return done


class ThreadQueue:
    mode = "thread"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.items: stdqueue.Queue[tuple[str, int]] = stdqueue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, name: str, ident: int, delay: float = 0) -> None:
        if delay > 0:
            timer = threading.Timer(delay, self.enqueue, args=(name, ident))
            timer.daemon = True
            timer.start()
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="yiyang-jobs", daemon=True)
                self._thread.start()
        self.items.put((name, ident))

    def _loop(self) -> None:
        while True:
            name, ident = self.items.get()
            try:
                delay = run_task(self.app, name, ident)
            except Exception:  # the row keeps the state; the sweep finds it again
                log.exception("background task %s %s failed", name, ident)
                delay = None
            finally:
                self.items.task_done()
            if delay is not None:
                self.enqueue(name, ident, delay)

    def drain(self) -> int:
        return 0  # requests never wait for the background thread

    def wait_idle(self) -> None:
        """Block until everything queued so far has run (a one-off command before it exits)."""
        self.items.join()


class RedisQueue:
    mode = "redis"

    def __init__(self, app: Flask, url: str) -> None:
        import os

        from redis import Redis
        from rq import Queue

        self.app = app
        self.connection = Redis.from_url(url)
        self.name = app.config.get("JOBS_QUEUE") or os.environ.get("YIYANG_JOBS_QUEUE") or QUEUE_NAME
        self.queue = Queue(self.name, connection=self.connection)

    def enqueue(self, name: str, ident: int, delay: float = 0) -> None:
        options: dict[str, Any] = {"result_ttl": 300, "failure_ttl": 7 * 86400, "job_timeout": 3600}
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), "jobs.queue.perform", name, ident, **options)
        else:
            self.queue.enqueue("jobs.queue.perform", name, ident, **options)

    def drain(self) -> int:
        return 0


_WORKER_APP: dict[str, Flask] = {}


def perform(name: str, ident: int) -> None:
    """What an RQ worker runs: the task, and its retry (delayed) when it asks for one."""
    app = _WORKER_APP.get("app")
    if app is None:
        from app import create_app

        app = _WORKER_APP.setdefault("app", create_app())
    delay = run_task(app, name, ident)
    if delay is not None:
        get_queue(app).enqueue(name, ident, delay)


def init_app(app: Flask) -> None:
    mode = app.config.get("JOBS_MODE") or ("redis" if app.config.get("REDIS_URL")
                                           else "eager" if app.config.get("TESTING") else "thread")
    if mode == "redis":
        app.extensions["yiyang.jobs"] = RedisQueue(app, app.config["REDIS_URL"])
    elif mode == "eager":
        app.extensions["yiyang.jobs"] = EagerQueue(app)
    else:
        app.extensions["yiyang.jobs"] = ThreadQueue(app)

    @app.after_request
    def _drain_eager(response: Any) -> Any:
        get_queue(app).drain()
        return response


def get_queue(app: Flask) -> Any:
    return app.extensions["yiyang.jobs"]


def enqueue(app: Flask, name: str, ident: int, delay: float = 0) -> None:
    """Hand an id to the queue. If the queue is away (Redis down), the row stays queued and the
    scheduler's sweep hands it over later: the caller's committed work is never lost."""
    try:
        get_queue(app).enqueue(name, ident, delay)
    except Exception:
        log.exception("could not queue %s %s; the sweep will", name, ident)
