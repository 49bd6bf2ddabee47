"""Fixtures for the job, notification and webhook tests: the rating and assessment worlds,
a local webhook receiver and a local SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.assessment.conftest import elder, gbt, people  # noqa: F401  (fixtures)
from tests.rating.conftest import rating_world  # noqa: F401  (fixture)


class Receiver:
    """A local HTTP server that keeps what it is sent and answers with `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append({"headers": dict(self.headers), "body": body,
                                       "json": json.loads(body or b"null")})
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver(app: Any) -> Iterator[Receiver]:
    with Receiver() as server:
        app.config["WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
        try:
            yield server
        finally:
            app.config.pop("WEBHOOK_ALLOW_HOSTS", None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture()
def smtp_server(app: Any) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["MAIL_FROM"] = "yiyang@example.org"
    try:
        yield mailbox
    finally:
        app.config.pop("SMTP_URL", None)
        app.config.pop("MAIL_FROM", None)
        controller.stop()
