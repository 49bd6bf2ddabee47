"""Accessibility of the main pages in a real browser (axe-core, WCAG 2.2 AA): no serious or
critical violation; nothing scrolls sideways at 320 CSS px (which is also a 1280 px screen at
400 % zoom, and 640 px at 200 %); English pages mark Chinese text; focus is never under a
sticky bar. Skipped without Chromium, except in CI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.accessibility import axe_violations, sideways_overflow
from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "Browser-Test-Pass-42"

pytestmark = pytest.mark.browser

PAGES = {
    "assessor1": ["/", "/elders", "/assessments", "@fill", "@review"],
    "reviewer1": ["/assessments", "@detail"],
    "admin": ["/", "/rating/dashboard", "/rating/facilities", "/rating/certificates", "/rating/actions",
              "/admin/audit/"],
    "inspector1": ["/rating/inspections", "@checklist"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    from assessment.demo import seed_demo as seed_assessments
    from rating.demo import seed_demo as seed_rating

    with demo_server(tmp_path_factory.mktemp("a11y"), PASSWORD, [seed_assessments, seed_rating]) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _signed_in(browser: Any, base: str, username: str, width: int = 768, lang: str = "zh") -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")
    return page


def _resolve(page: Any, base: str, path: str) -> str:
    """A page named by what it shows (@fill, @review, @detail, @checklist) → its URL."""
    if path in ("@fill", "@review"):
        page.goto(f"{base}/assessments?status=draft")
        page.locator("table a[href*='/assessments/']").first.click()
        page.wait_for_load_state()
        if "/fill" not in page.url:
            link = page.locator("a[href*='/fill']").first
            link.click()
            page.wait_for_load_state()
        url = str(page.url)
        return url if path == "@fill" else url.split("/fill")[0] + "/review"
    if path == "@detail":
        page.goto(f"{base}/assessments?status=submitted")
        page.locator("table a[href*='/assessments/']").first.click()
        page.wait_for_load_state()
        return str(page.url)
    if path == "@checklist":
        page.goto(f"{base}/rating/inspections?status=in_progress")
        page.locator("table a").first.click()
        page.wait_for_selector("#checklist")
        return str(page.url)
    return base + path


@pytest.mark.parametrize("username", sorted(PAGES))
def test_main_pages_have_no_serious_axe_violation_and_fit_320_px(server: str, browser: Any, username: str) -> None:
    page = _signed_in(browser, server, username)
    problems: list[str] = []
    for path in PAGES[username]:
        url = _resolve(page, server, path)
        page.set_viewport_size({"width": 768, "height": 900})
        answer = page.goto(url)
        if answer is None or answer.status != 200:  # an error page would pass axe and prove nothing
            problems.append(f"{path}: answered {answer.status if answer else 'nothing'}, not 200")
            continue
        problems += [f"{path}: {v}" for v in axe_violations(page)]
        page.set_viewport_size({"width": 320, "height": 640})
        page.wait_for_timeout(100)
        if sideways_overflow(page) > 0:
            problems.append(f"{path}: scrolls {sideways_overflow(page)} px sideways at 320 px")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_english_pages_mark_chinese_text(server: str, browser: Any) -> None:
    page = _signed_in(browser, server, "inspector1", lang="en")
    _resolve(page, server, "@checklist")
    assert page.get_attribute("html", "lang") == "en"
    # Every element whose own text is Chinese sits inside an element marked lang="zh-CN".
    unmarked = page.evaluate("""() => {
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        const parent = node.parentElement;
        if (!/[\\u4e00-\\u9fff]/.test(node.textContent) || !parent || parent.closest('script')) continue;
        if (!parent.closest('[lang^=zh]')) out.push(node.textContent.trim().slice(0, 40));
      }
      return out;
    }""")
    page.context.close()
    assert not unmarked, unmarked


def test_focus_is_never_under_a_sticky_bar(server: str, browser: Any) -> None:
    page = _signed_in(browser, server, "assessor1")
    page.goto(_resolve(page, server, "@fill"))
    hidden = []
    for _ in range(30):
        page.keyboard.press("Tab")
        box = page.evaluate("""() => {
          const el = document.activeElement; if (!el || el === document.body) return null;
          const r = el.getBoundingClientRect();
          if (r.width <= 1 || r.height <= 1) return null;  // visually hidden (its label shows focus)
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          const covered = !hit || !(el.contains(hit) || hit.contains(el) || (el.labels && [...el.labels].some(l => l.contains(hit))));
          return covered ? (el.name || el.id || el.tagName) : null;
        }""")
        if box:
            hidden.append(box)
    page.context.close()
    assert not hidden, hidden
