"""Deny-by-default URL fetcher: packaged files and ``data:`` URLs, nothing else.

Documents are filled with user input (names, notes, facility descriptions). Whatever a
template or a stylesheet references, WeasyPrint may only read files under the allowed
roots (the document templates, the bundled fonts, the project's static files) and decode
``data:`` URLs. Every other scheme (http, https, ftp, file outside the roots, devices such
as /dev/urandom) is refused before any connection or read happens.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from core.resources import resource_dir
from reports._weasyprint import URLFetcher, URLFetcherResponse
from reports.fonts import FONT_DIR

log = logging.getLogger("yiyang.reports")

TEMPLATE_DIR = resource_dir("templates") / "documents"
STATIC_DIR = resource_dir("static")
ALLOWED_ROOTS: tuple[Path, ...] = (TEMPLATE_DIR, FONT_DIR, STATIC_DIR)

# A packaged asset is a stylesheet, a font or an image: nothing near this size.
MAX_BYTES = 16 * 1024 * 1024

_MIME = {
    ".css": "text/css",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}


class FetchDenied(ValueError):
    """A URL the document may not load; WeasyPrint logs it and leaves the resource out."""


class SafeURLFetcher(URLFetcher):
    """URL fetcher that serves only files under ``roots`` and ``data:`` URLs."""

    def __init__(self, roots: Iterable[Path] = ALLOWED_ROOTS) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "data"),
                         allow_redirects=False)
        self.roots = tuple(Path(root).resolve() for root in roots)
        self.denied: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return _fetch_data(url)
        if scheme == "file":
            return self._fetch_file(url)
        return self._deny(url, "scheme not allowed")

    def _deny(self, url: str, reason: str) -> URLFetcherResponse:
        shown = url if len(url) <= 200 else url[:200] + "…"
        self.denied.append(shown)
        log.warning("PDF resource refused (%s): %s", reason, shown)
        raise FetchDenied(f"资源不允许加载：{shown}")

    def _fetch_file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return self._deny(url, "remote file host")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError):
            return self._deny(url, "no such file")
        if not any(path.is_relative_to(root) for root in self.roots):
            return self._deny(url, "outside the packaged assets")
        if not path.is_file():  # devices, fifos, directories
            return self._deny(url, "not a regular file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            return self._deny(url, "file too large")
        mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def _fetch_data(url: str) -> URLFetcherResponse:
    header, _, payload = url[5:].partition(",")
    if len(payload) > MAX_BYTES * 4 // 3 + 4:
        raise FetchDenied("data: URL too large")
    params = header.split(";")
    mime = params[0] or "text/plain"
    if "base64" in params[1:]:
        body = base64.b64decode(unquote(payload), validate=False)
    else:
        body = unquote_to_bytes(payload)
    headers = {"Content-Type": mime}
    charset = next((p[8:] for p in params[1:] if p.startswith("charset=")), None)
    if charset:
        headers["Content-Type"] = f"{mime}; charset={charset}"
    return URLFetcherResponse(url[:64], body, headers)


def is_allowed_path(path: str | os.PathLike[str]) -> bool:
    """Whether a local path lies under the allowed roots (for callers building URLs)."""
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(root.resolve()) for root in ALLOWED_ROOTS)
