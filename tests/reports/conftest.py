"""Fixtures for the PDF rendering tests: text extraction and a socket blocker."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator

import pytest
from pypdf import PdfReader


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    return "".join(text.split())


@pytest.fixture
def pdf_text() -> Callable[[bytes], str]:
    """All text of a PDF, pages joined, whitespace removed (layout adds line breaks)."""
    return _pdf_text


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple]]:
    """Make every socket connection fail loudly and record the attempt."""
    attempts: list[tuple] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
