"""A live server for the browser tests: its own SQLite database, migrated and seeded like
`yiyang init` and `yiyang demo`, served on 127.0.0.1 from a thread. Playwright drives the
system Chromium (its own browser download does not work here); without Chromium the browser
tests are skipped, except in CI where they must run."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
import urllib.error
import urllib.request
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


# --- offline field work (tests/forms/test_forms_offline*_browser.py) ------------------------------
# One demo server for those modules (tests/forms/conftest.py), a tablet (a browser context) per test.

OFFLINE_PASSWORD = "Browser-Test-Pass-42"
OFFLINE_INSTANCE: dict[str, Path] = {}


def shot(page: Any, name: str, selector: str, height: int | None = None) -> None:
    """With YIYANG_DOC_SCREENSHOTS=docs/img, keep a screenshot for docs/assessment.md (the offline
    guide); otherwise nothing. Only a part of the page, so the PNGs stay small."""
    folder = os.environ.get("YIYANG_DOC_SCREENSHOTS")
    if not folder:
        return
    target = page.locator(selector).first
    path = str(Path(folder) / f"offline-{name}.png")
    if height is None:
        target.screenshot(path=path, animations="disabled")
        return
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.screenshot(path=path, animations="disabled",
                    clip={"x": 0, "y": max(box["y"] - 8, 0), "width": page.viewport_size["width"], "height": height})


def count_rows(sql: str, *args: Any) -> int:
    """Read the live server's SQLite database directly (what it stored, not what it answers)."""
    with sqlite3.connect(OFFLINE_INSTANCE["path"] / "yiyang.sqlite") as connection:
        return int(connection.execute(sql, args).fetchone()[0])


def read_rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of the live server's SQLite database, read directly."""
    with sqlite3.connect(OFFLINE_INSTANCE["path"] / "yiyang.sqlite") as connection:
        return list(connection.execute(sql, args).fetchall())


class Tablet:
    """One browser context (a tablet): its pages, its errors, its network switch."""

    def __init__(self, browser: Any, base: str, **options: Any) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", **options)
        self.errors: list[str] = []
        self.page = self.open()

    def open(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(20000)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def login(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base}/login")
        page.fill("#username", username)
        page.fill("#password", OFFLINE_PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{self.base}/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    def offline(self, value: bool) -> None:
        self.context.set_offline(value)

    def record(self, key: str) -> Any:
        return self.page.evaluate("k => window.YiyangOffline.record(k)", key)

    def outbox(self) -> list[Any]:
        return self.page.evaluate("() => window.YiyangOffline.entries().then(l => l.map(e => e.type))")


def api(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """A call from another session (not the tablet's browser, which may be offline)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def token(base: str, username: str) -> str:
    status, body = api(base, "POST", "/api/v1/auth/login", body={"username": username, "password": OFFLINE_PASSWORD})
    assert status == 200, body
    return str(body["token"])


def start_assessment(base: str, name: str, id_number: str) -> int:
    """A fresh draft for a newly registered elder, made by assessor1 through the API."""
    key = token(base, "assessor1")
    status, elder = api(base, "POST", "/api/v1/elders", key, {
        "name": name, "gender": "female", "birth_date": id_number[6:10] + "-" + id_number[10:12] + "-" + id_number[12:14],
        "id_number": id_number, "address": "示例市东城区和平街 9 号"})
    assert status == 201, elder
    status, created = api(base, "POST", "/api/v1/assessments", key, {"elder_id": elder["id"], "instrument": "gbt42195-2022",
                                                                    "reason": "首次评估"})
    assert status == 201, created
    return int(created["id"])


def id_number(birth: str, serial: str) -> str:
    body = "110101" + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def take_offline(tablet: Tablet, list_url: str, api_path: str) -> None:
    page = tablet.page
    page.goto(tablet.base + list_url)
    page.wait_for_selector("[data-offline-tools]:not([hidden])")
    page.locator(f"input[data-offline-pick][value='{api_path}']").check()
    page.click("[data-offline-download]")
    from playwright.sync_api import expect

    expect(page.locator("[data-offline-progress]")).to_contain_text("已下载 1 份", timeout=60000)
    shot(page, "download", ".offline-tools", height=360)
    assert page.locator(f"input[data-offline-pick][value='{api_path}'] ~ [data-offline-kept]").is_visible()


def answer_visible(page: Any, pick: int = 0) -> None:
    """Answer every visible item on the page: an option (否 for yes/no), the minimum for numbers."""
    for fieldset in page.locator("fieldset.item:visible").all():
        radios = fieldset.locator("input[type=radio]")
        if radios.count():
            labels = fieldset.locator("label.option")
            no = labels.filter(has_text="否")
            (no.first if no.count() else labels.nth(min(pick, labels.count() - 1))).click()
            continue
        number = fieldset.locator("input[type=number]")
        if number.count():
            number.first.fill(number.first.get_attribute("min") or "0")


def png_file(path: Path) -> Path:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 90)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


def start_inspection(base: str, kind: str, scheme: str) -> int:
    """A fresh inspection of a demo facility of that kind, started by inspector1 through the API."""
    key = token(base, "inspector1")
    status, facilities = api(base, "GET", f"/api/v1/facilities?kind={kind}", key)
    assert status == 200 and facilities["items"], facilities
    status, created = api(base, "POST", "/api/v1/inspections", key,
                          {"facility_id": facilities["items"][-1]["id"], "scheme": scheme})
    assert status in (200, 201), created
    return int(created["id"])


def offline_storage(page: Any) -> dict[str, Any]:
    """What the tablet keeps of offline work: IndexedDB databases, caches, the pages' keys."""
    return dict(page.evaluate("""async () => ({
        databases: (await indexedDB.databases()).map(d => d.name).sort(),
        caches: (await caches.keys()).sort(),
        local: Object.keys(localStorage).filter(k => k.startsWith('yiyang.')).sort()})"""))
