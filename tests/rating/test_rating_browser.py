"""The checklist in a real browser at tablet size: autosave without pressing anything, kept
across a reload, nothing lost when the page is reloaded or left at once after a tap, and a
conflict shown with the server's answers instead of overwritten. Skipped without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@pytest.fixture()
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _tablet(browser: Any, base: str, errors: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "409" not in m.text else None)
    page.goto(f"{base}/login")
    page.fill("#username", "inspector1")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")
    return page


def _open_checklist(page: Any, base: str) -> str:
    page.goto(f"{base}/rating/inspections?status=in_progress")
    page.locator("table a").first.click()
    page.wait_for_selector("#checklist")
    return str(page.url)


def _server_checked(browser: Any, base: str, url: str, control: str) -> bool:
    """What the server has, seen from another tablet (no local copy there)."""
    errors: list[str] = []
    other = _tablet(browser, base, errors)
    other.goto(url)
    checked = bool(other.locator(control).is_checked())
    other.context.close()
    return checked


def test_checklist_autosaves_on_a_tablet(rating_server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page = _tablet(browser, rating_server, errors)
    _open_checklist(page, rating_server)
    page.fill("input[name='q_operations']", "133")
    expect(page.locator("[data-autosave-status]")).to_contain_text("已自动保存", timeout=10000)
    page.reload()
    assert page.input_value("input[name='q_operations']") == "133"
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    # Another tab saves first: this one asks about the item, both values side by side, keeps its own.
    other = page.context.new_page()
    other.goto(page.url)
    other.fill("input[name='q_services']", "520")
    expect(other.locator("[data-autosave-status]")).to_contain_text("已自动保存", timeout=10000)
    other.close()
    page.fill("input[name='q_services']", "400")
    banner = page.locator("#conflict-banner")
    expect(banner).to_be_visible(timeout=10000)
    expect(banner.locator("[data-conflict-item]")).to_have_count(1)
    expect(banner.locator("[data-conflict-item]")).to_contain_text("用服务器上的答案：520")
    expect(banner.locator("[data-conflict-item]")).to_contain_text("用我的答案：400")
    assert page.input_value("input[name='q_services']") == "400"
    page.click("[data-conflict-apply]")
    expect(page.locator("[data-autosave-status]")).to_contain_text("已自动保存", timeout=10000)
    page.context.close()
    assert not errors, errors


def _tap_choice(page: Any, which: int) -> str:
    """Tap the which-th question asked one by one (the demo's scheme is entered as section
    scores, so: the veto questions); returns a selector of its control."""
    option = page.locator("#checklist input[name=veto]:not([disabled])").nth(which)
    assert not option.is_checked()
    value = option.get_attribute("value")
    option.click()
    return f"input[name='veto'][value='{value}']"


def test_tap_then_reload_at_once_keeps_the_answer_without_conflict(rating_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = _tablet(browser, rating_server, errors)
    url = _open_checklist(page, rating_server)
    control = _tap_choice(page, 0)
    page.reload()
    page.wait_for_timeout(2500)
    assert page.locator("#conflict-banner").is_hidden()
    assert page.locator(control).is_checked()
    page.wait_for_function("!document.querySelector('[data-autosave-status]').textContent.includes('…')")
    assert _server_checked(browser, rating_server, url, control)
    page.context.close()
    assert not errors, errors


def test_tap_then_leave_at_once_saves_the_answer(rating_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = _tablet(browser, rating_server, errors)
    url = _open_checklist(page, rating_server)
    control = _tap_choice(page, 1)
    page.goto(f"{rating_server}/")  # away, well within the autosave delay
    page.wait_for_timeout(1500)
    page.context.close()  # no local copy comes back: the server must have it
    assert _server_checked(browser, rating_server, url, control)
    assert not errors, errors
