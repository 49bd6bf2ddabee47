"""The checklist in a real browser at tablet size: autosave without pressing anything, kept
across a reload, and a conflict reported instead of overwritten. Skipped without Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "Browser-Test-Pass-42"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rating_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists() and not IN_CI:
        pytest.skip("/usr/bin/chromium is not installed; browser test skipped")
    from werkzeug.serving import make_server

    from accounts.cli import seed_accounts
    from app import create_app
    from core.db import get_engine, session_scope, upgrade_database
    from rating.demo import seed_demo

    instance = tmp_path_factory.mktemp("rating-browser")
    url = f"sqlite:///{instance / 'yiyang.sqlite'}"
    saved = os.environ.get("YIYANG_INSTANCE_PATH")
    os.environ["YIYANG_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-secret", "DATA_KEY": "browser-data"})
        upgrade_database(url)
        with app.app_context(), session_scope(get_engine()) as session:
            context, _ = seed_accounts(session, PASSWORD)
            seed_demo(session=session, context=context)
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


def test_checklist_autosaves_on_a_tablet(rating_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "409" not in m.text
                and "favicon" not in str(m.location.get("url")) else None)
        page.goto(f"{rating_server}/login")
        page.fill("#username", "inspector1")
        page.fill("#password", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{rating_server}/")
        page.goto(f"{rating_server}/rating/inspections?status=in_progress")
        page.locator("table a").first.click()
        page.wait_for_selector("#checklist")
        page.fill("input[name='s:operations']", "133")
        expect(page.locator("[data-autosave-status]")).to_contain_text("已保存", timeout=10000)
        page.reload()
        assert page.input_value("input[name='s:operations']") == "133"
        assert page.evaluate("document.documentElement.scrollWidth") <= 768

        # Another tab saves first: this one reports the conflict instead of overwriting.
        other = context.new_page()
        other.goto(page.url)
        other.fill("input[name='s:services']", "520")
        expect(other.locator("[data-autosave-status]")).to_contain_text("已保存", timeout=10000)
        page.fill("input[name='s:services']", "400")
        expect(page.locator("[data-autosave-status]")).to_contain_text("他人已修改", timeout=10000)
        context.close()
        browser.close()
        assert not errors, errors
