"""The checklist in a real browser at tablet size: autosave without pressing anything, kept
across a reload, and a conflict reported instead of overwritten. Skipped without Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "Browser-Test-Pass-42"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rating_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    from rating.demo import seed_demo

    with demo_server(tmp_path_factory.mktemp("rating-browser"), PASSWORD, [seed_demo]) as base:
        yield base


def test_checklist_autosaves_on_a_tablet(rating_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
