"""The organisation picker's search box in a real browser at tablet size (static/js/org-picker.js):
the city administrator types a few characters into the users list's organisation filter, picks a
hit with the keyboard (and, on the elders list, with a tap), submits, and sees the filtered list.
The threshold is lowered so the demo city's five organisations already make a search box. Live
server with its own SQLite database (tests/browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts import picker
from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

PASSWORD = "Browser-Picker-Pass-42"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(picker, "THRESHOLD", 2)
        with demo_server(tmp_path_factory.mktemp("browser-picker"), PASSWORD, []) as base:
            yield base


@pytest.fixture()
def page(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
        tab = context.new_page()
        tab.set_default_timeout(20000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.goto(f"{live_server}/login")
        tab.fill("#username", "admin")
        tab.fill("#password", PASSWORD)
        tab.locator("form button[type=submit]").last.click()
        tab.wait_for_url(f"{live_server}/")
        yield tab
        context.close()
        browser.close()
        assert not errors, f"browser errors: {errors}"


def test_type_pick_with_the_keyboard_and_filter_the_users(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server}/admin/users")
    box = page.get_by_role("combobox", name="机构")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("东城")
    options = page.get_by_role("listbox", name="机构").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("示例市东城区")
    expect(options.first).to_contain_text("示例市")  # the names above it
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # picks; does not submit
    expect(box).to_have_value("示例市东城区")
    expect(box).to_have_attribute("aria-expanded", "false")
    assert urlsplit(page.url).path == "/admin/users" and not urlsplit(page.url).query
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/admin/users?**")
    query = parse_qs(urlsplit(page.url).query)
    assert list(query.get("org", [])) != [] and "org_text" not in query  # the id alone
    table = page.locator("table.table tbody")
    expect(table).to_contain_text("assessor1")
    expect(table).not_to_contain_text("reviewer1")
    expect(page.get_by_role("combobox", name="机构")).to_have_value("示例市东城区")

    box = page.get_by_role("combobox", name="机构")
    box.fill("")
    box.press_sequentially("示例")
    expect(page.get_by_role("listbox", name="机构").get_by_role("option")).not_to_have_count(0)
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("listbox")).to_be_hidden()


def test_tap_a_hit_on_the_elders_list_and_a_typed_name_without_picking(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server}/elders")
    box = page.get_by_role("combobox", name="机构")
    box.press_sequentially("和平")
    hit = page.get_by_role("listbox", name="机构").get_by_role("option", name="和平街道")
    hit.tap()
    expect(box).to_have_value("和平街道")
    page.locator("form.filter-form button[type=submit]").click()
    page.wait_for_url("**/elders?**")
    assert "org" in parse_qs(urlsplit(page.url).query)
    expect(page.get_by_role("combobox", name="机构")).to_have_value("和平街道")

    # Typed in full but not picked: sent as text, found by the server, the address carries the id.
    page.goto(f"{live_server}/admin/users")
    box = page.get_by_role("combobox", name="机构")
    box.fill("示例市西城区")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"/admin/users\?(.*&)?org=\d+"))
    assert "org_text" not in parse_qs(urlsplit(page.url).query)
    expect(page.get_by_role("combobox", name="机构")).to_have_value("示例市西城区")
