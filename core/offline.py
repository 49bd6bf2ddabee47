"""The installable web app's shell: the service worker at the root scope (/sw.js), the web app
manifest, the offline start page, and the session check the outbox makes before it sends.

The service worker's cache names carry a version computed from the shipped static files, so a
new deploy (any changed script, style or icon) installs a new worker, which caches the new shell
and deletes the old one. What a person downloaded for offline work (record pages, in their own
cache; answers and the outbox, in IndexedDB) is kept across deploys. docs/forms.md describes the
whole design.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from core.api import api_route
from core.auth import current_actor, public
from core.resources import resource_dir

SHELL_SUFFIXES = (".css", ".js", ".svg", ".png")
FONTS = ("NotoSansSC-Regular.woff2", "NotoSansSC-Bold.woff2")
ICONS = ((192, "icons/icon-192.png"), (512, "icons/icon-512.png"))


@cache
def shell_files() -> tuple[str, ...]:
    """The static files (relative to static/) every page may need offline: styles, scripts, icons."""
    root = resource_dir("static")
    files = sorted(str(p.relative_to(root)).replace("\\", "/") for p in root.rglob("*")
                   if p.is_file() and p.suffix in SHELL_SUFFIXES and p.name != "sw.js")
    return tuple(files)


@cache
def shell_version() -> str:
    """A digest of the shell's contents: changes with every deploy that changes a static file."""
    root = resource_dir("static")
    digest = hashlib.sha256()
    for name in (*shell_files(), "js/sw.js"):
        digest.update(name.encode())
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


@public
def service_worker() -> Response:
    """/sw.js: the worker, with its version and the shell's URLs written at its top."""
    static = current_app.static_url_path
    shell = [f"{static}/{name}" for name in shell_files()] + [f"{static}/fonts/{name}" for name in FONTS]
    config = {"version": shell_version(), "shell": shell, "offlinePage": url_for("offline_page"),
              "signedOut": {lang: url_for("offline_signed_out", lang=lang) for lang in ("zh", "en")},
              "logout": url_for("accounts.logout"), "static": static + "/"}
    source = (resource_dir("static") / "js" / "sw.js").read_text(encoding="utf-8")
    body = f"self.YIYANG_SW = {json.dumps(config)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"  # the browser checks for a new deploy each visit
    return response


@public
def manifest() -> Response:
    """/manifest.webmanifest: name, colours and icons of the installable app."""
    static = current_app.static_url_path
    icons: list[dict[str, Any]] = [{"src": f"{static}/{path}", "sizes": f"{size}x{size}", "type": "image/png",
                                    "purpose": "any"} for size, path in ICONS]
    icons.append({"src": f"{static}/favicon.svg", "sizes": "any", "type": "image/svg+xml"})
    body = {"name": _("颐养 养老评估评定"), "short_name": _("颐养"), "start_url": "/", "scope": "/",
            "display": "standalone", "background_color": "#f6f8f9", "theme_color": "#15584a",
            "lang": "zh-CN", "icons": icons}
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@public
def offline_page() -> Any:
    """/offline: what the service worker shows for a page that was not downloaded; lists the
    records kept on this device (drawn by offline.js from IndexedDB)."""
    return render_template("offline.html")


@public
def offline_signed_out() -> Any:
    """/offline/signed-out?lang=: what the service worker shows when logging out cannot reach the
    server (kept in both languages): the device's data is cleared, the server's session ends at
    its expiry or at the next sign-in (offline.js ends it on the next page the network brings)."""
    return render_template("offline_signed_out.html")


@api_route("/offline/session", methods=["GET"], roles=(),
           summary="离线同步前检查登录，取得 CSRF 令牌 / session check and CSRF token for the outbox",
           responses={200: {"type": "object", "properties": {"user": {"type": "string"},
                                                              "csrf_token": {"type": "string"}}}})
def offline_session() -> Any:
    """GET /api/v1/offline/session: who is signed in and a fresh CSRF token for the outbox's
    writes (a 401 when the login expired: the outbox keeps its changes and asks to sign in)."""
    user = current_actor()
    return jsonify({"user": user.username, "csrf_token": generate_csrf()})


def init_app(app: Flask) -> None:
    app.add_url_rule("/sw.js", "service_worker", service_worker)
    app.add_url_rule("/manifest.webmanifest", "manifest", manifest)
    app.add_url_rule("/offline", "offline_page", offline_page)
    app.add_url_rule("/offline/signed-out", "offline_signed_out", offline_signed_out)

