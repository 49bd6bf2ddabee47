"""A full GB/T 42195 assessment in a real browser at tablet size (768×1024), against a live
server on 127.0.0.1 with its own SQLite database (migrated and seeded like `yiyang init`/`demo`).

Playwright drives the system Chromium (/usr/bin/chromium); its own browser download does not
work here. Without Chromium the test is skipped, except in CI where it must run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "Browser-Test-Pass-42"

pytestmark = pytest.mark.browser

SKIP_PACK = """
id: skip-demo
version: "1"
kind: assessment
title: 跳题示例
levels:
  - {code: 0, label: 无}
sections:
  - id: S
    title: 跌倒
    items:
      - id: S.fell
        type: boolean
        title: 近 30 天是否跌倒
      - id: S.times
        type: count
        title: 跌倒次数
        max: 9
        relevant: S.fell == true
        constraint: . >= 1
        constraint_message: 跌倒过则次数至少为 1
"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    from assessment.demo import seed_demo
    from scoring import load_definition_text

    def add_skip_pack(app: Any) -> None:
        # A small instrument with skip logic, to watch items appear and disappear as one answers.
        skip = load_definition_text(SKIP_PACK, source="<browser test>")
        app.extensions["yiyang.definitions"] = {**app.extensions["yiyang.definitions"], skip.id: skip}

    with demo_server(tmp_path_factory.mktemp("browser-instance"), PASSWORD, [seed_demo],
                     prepare=add_skip_pack) as base:
        yield base


@pytest.fixture()
def page(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
        tab = context.new_page()
        tab.set_default_timeout(15000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(f"{msg.text} ({msg.location.get('url')})")
               if msg.type == "error" and not _expected(msg) else None)
        yield tab
        context.close()
        browser.close()
        assert not errors, f"browser errors: {errors}"


def _expected(msg: Any) -> bool:
    """Console errors that are part of the story: a 409 the page shows as a conflict, a refused
    save after the login lapsed (the answers' autosave and the visit record's, which stays on the
    device and goes with the next send)."""
    where = str(msg.location.get("url", ""))
    if where.endswith("/visit"):
        return "400" in msg.text
    return where.endswith("/autosave") and ("409" in msg.text or "400" in msg.text)


def _answer_section(page: Any) -> None:
    """Answer every visible item on the page: first option, 否 for yes/no, 0 for counts."""
    for fieldset in page.locator("fieldset.item:visible").all():
        radios = fieldset.locator("input[type=radio]")
        if radios.count():
            labels = fieldset.locator("label.option")
            choice = labels.filter(has_text="否") if labels.filter(has_text="否").count() else labels.first
            choice.first.click()
            continue
        number = fieldset.locator("input[type=number]")
        if number.count():
            number.first.fill(number.first.get_attribute("min") or "0")


def test_full_gbt42195_assessment_on_a_tablet(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server}/login")
    page.fill("#username", "assessor1")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/elders/new")
    page.fill("#name", "孙淑珍")
    page.check("#gender-1")
    page.fill("#birth_date", "1942-05-17")
    page.fill("#id_number", _id_number("110101", "19420517", "002"))
    page.fill("#address", "示例市东城区和平街 9 号")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("#start-assessment")
    page.click("#start-assessment")
    page.wait_for_selector("#assessment-form")

    # Autosave: a change is saved within seconds, without pressing anything, and survives a reload.
    page.locator("a, button").filter(has_text="自理能力").first.click()
    page.wait_for_selector("fieldset[data-item='B.1.1']")
    page.locator("fieldset[data-item='B.1.1'] label.option").nth(1).click()
    expect(page.locator("#save-status")).to_contain_text("已自动保存", timeout=10000)
    page.reload()
    assert page.locator("fieldset[data-item='B.1.1'] input[type=radio]").nth(1).is_checked()

    # Back to the first page, then answer every section page by page.
    page.locator(".section-tabs button").first.click()
    page.wait_for_selector("fieldset[data-item='A.5.11']")
    pages = 0
    while True:
        pages += 1
        _answer_section(page)
        if page.locator("#to-review").count():
            page.click("#to-review")
            break
        page.click("#next-page")
        page.wait_for_load_state()
        assert pages < 10
    page.wait_for_selector("#submit-assessment")
    assert page.locator(".problems").count() == 0, page.locator(".problems").inner_text()
    page.click("#submit-assessment")
    page.wait_for_selector("#final-level")
    level = page.locator("#final-level").inner_text()
    assert "能力" in level
    assert page.locator(".chart svg").count() == 1
    assert page.locator("#explanation li").count() >= 5
    assert page.locator("#entitlement-services").count() == 1
    # The final level is shown large on a 768-wide screen and nothing overflows sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    font_size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('final-level')).fontSize)")
    assert font_size >= 36


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def _open_draft(page: Any, base: str, instrument: str) -> str:
    page.goto(f"{base}/elders")
    page.fill("#q", "陈玉兰")
    page.locator(".search-bar button[type=submit]").click()
    page.locator("table a").filter(has_text="陈玉兰").first.click()
    page.select_option("#instrument", instrument)
    page.click("#start-assessment")
    page.wait_for_selector("#assessment-form")
    return page.url


def test_skip_logic_applies_live(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    _login(page, live_server, "assessor1")
    _open_draft(page, live_server, "skip-demo")
    times = page.locator("fieldset[data-item='S.times']")
    expect(times).to_be_hidden()
    page.locator("fieldset[data-item='S.fell'] label.option").filter(has_text="是").click()
    expect(times).to_be_visible()
    page.locator("fieldset[data-item='S.fell'] label.option").filter(has_text="否").click()
    expect(times).to_be_hidden()
    page.locator("fieldset[data-item='S.fell'] label.option").filter(has_text="是").click()
    page.fill("fieldset[data-item='S.times'] input", "0")
    # The engine's constraint message comes back with the autosave, in Chinese, beside the item.
    expect(times.locator(".item-errors")).to_contain_text("至少为 1", timeout=10000)


def test_conflict_keeps_local_answers(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    _login(page, live_server, "assessor1")
    _open_draft(page, live_server, "gbt42195-2022")
    page.locator(".section-tabs button").filter(has_text="自理能力").click()
    page.wait_for_selector("fieldset[data-item='B.1.1']")
    url = page.url
    colleague = page.context.browser.new_context(viewport={"width": 768, "height": 1024})
    other = colleague.new_page()  # a colleague on another tablet, same draft
    _login(other, live_server, "assessor2")
    other.goto(url)
    other.locator("fieldset[data-item='B.1.1'] label.option").nth(4).click()
    expect(other.locator("#save-status")).to_contain_text("已自动保存", timeout=10000)
    colleague.close()
    page.locator("fieldset[data-item='B.1.1'] label.option").nth(0).click()
    banner = page.locator("#conflict-banner")
    expect(banner).to_be_visible(timeout=10000)
    expect(banner).to_contain_text("其他人修改")
    expect(banner.locator("[data-conflict-item]")).to_have_count(1)  # B.1.1, both values
    expect(banner.locator("[data-conflict-item] label")).to_have_count(2)
    assert page.locator("fieldset[data-item='B.1.1'] input[type=radio]").nth(0).is_checked()
    page.click("[data-conflict-apply]")  # "mine" is chosen first
    expect(page.locator("#save-status")).to_contain_text("已自动保存", timeout=10000)
    page.reload()
    assert page.locator("fieldset[data-item='B.1.1'] input[type=radio]").nth(0).is_checked()


def _server_has(page: Any, base: str, url: str, control: str) -> bool:
    """What the server has, seen from another tablet (no local copy there)."""
    colleague = page.context.browser.new_context(viewport={"width": 768, "height": 1024})
    other = colleague.new_page()
    _login(other, base, "assessor1")
    other.goto(url)
    checked = bool(other.locator(control).is_checked())
    colleague.close()
    return checked


def test_tap_then_reload_at_once_keeps_the_answer_without_conflict(live_server: str, page: Any) -> None:
    _login(page, live_server, "assessor1")
    _open_draft(page, live_server, "gbt42195-2022")
    page.locator(".section-tabs button").filter(has_text="自理能力").click()
    page.wait_for_selector("fieldset[data-item='B.1.2']")
    url = page.url
    for attempt in range(3):  # the defect showed 5 times in 5: a few tries are enough to see it
        page.locator("fieldset[data-item='B.1.2'] label.option").nth(attempt + 1).click()
        page.reload()
        page.wait_for_timeout(2000)
        assert page.locator("#conflict-banner").is_hidden(), page.locator("#conflict-banner").inner_text()
        assert page.locator("fieldset[data-item='B.1.2'] input[type=radio]").nth(attempt + 1).is_checked()
    page.wait_for_function("!document.getElementById('save-status').textContent.includes('…')")
    assert _server_has(page, live_server, url, "fieldset[data-item='B.1.2'] input[type=radio] >> nth=3")
    # The next page is reached without a conflict.
    page.click("#next-page")
    page.wait_for_load_state()
    assert page.locator("#server-conflict").count() == 0


def test_tap_then_leave_at_once_saves_the_answer(live_server: str, page: Any) -> None:
    _login(page, live_server, "assessor1")
    _open_draft(page, live_server, "gbt42195-2022")
    page.locator(".section-tabs button").filter(has_text="自理能力").click()
    page.wait_for_selector("fieldset[data-item='B.1.3']")
    url = page.url
    page.locator("fieldset[data-item='B.1.3'] label.option").nth(2).click()
    page.goto(f"{live_server}/")  # away, well within the autosave delay
    page.wait_for_timeout(1500)
    page.evaluate("window.localStorage.clear()")  # no local copy comes back: the server must have it
    assert _server_has(page, live_server, url, "fieldset[data-item='B.1.3'] input[type=radio] >> nth=2")


def test_an_expired_login_says_so_and_keeps_the_answers(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    _login(page, live_server, "assessor1")
    _open_draft(page, live_server, "gbt42195-2022")
    page.locator(".section-tabs button").filter(has_text="自理能力").click()
    page.wait_for_selector("fieldset[data-item='B.1.4']")
    url = page.url
    page.context.clear_cookies()  # the login lapses while the page is open
    page.locator("fieldset[data-item='B.1.4'] label.option").nth(3).click()
    expect(page.locator("#save-status")).to_contain_text("登录已过期", timeout=10000)
    assert "网络" not in page.locator("#save-status").inner_text()
    _login(page, live_server, "assessor1")
    page.goto(url)  # the answer kept on this device comes back and is saved
    expect(page.locator("#save-status")).to_contain_text("已自动保存", timeout=10000)
    assert page.locator("fieldset[data-item='B.1.4'] input[type=radio]").nth(3).is_checked()
    page.evaluate("window.localStorage.clear()")
    assert _server_has(page, live_server, url, "fieldset[data-item='B.1.4'] input[type=radio] >> nth=3")


def _id_number(region: str, birth: str, sequence: str) -> str:
    from assessment.idnumber import check_digit

    first17 = region + birth + sequence
    return first17 + check_digit(first17)
