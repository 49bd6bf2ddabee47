"""An administrator imports a spreadsheet of elders through the page, in a real browser at tablet
size: upload, the dry run's table of problems, the confirmation dialog, the result, the new
elders in the list. Live server with its own SQLite database (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium
from tests.factories import make_id_number
from tests.imports.conftest import bad_check_digit, to_xlsx

PASSWORD = "Browser-Import-Pass-42"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("browser-import"), PASSWORD, []) as base:
        yield base


@pytest.fixture()
def page(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
        tab = context.new_page()
        tab.set_default_timeout(20000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        yield tab
        context.close()
        browser.close()
        assert not errors, f"browser errors: {errors}"


def test_import_elders_through_the_page(live_server: str, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    rows = [
        ["周一", "女", make_id_number("1941-01-01", 701), "", "13900000001", "示例市东城区", "和平街道"],
        ["周二", "男", bad_check_digit(make_id_number("1942-02-02", 702)), "", "", "", ""],
        ["周三", "男", make_id_number("1943-03-03", 703), "1943-03-03", "", "示例市西城区", ""],
    ]
    sheet = tmp_path / "老人名册.xlsx"
    sheet.write_bytes(to_xlsx(rows))

    page.goto(f"{live_server}/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/elders")
    page.get_by_role("link", name="从表格导入").click()
    page.wait_for_url(f"{live_server}/imports/elders")
    page.set_input_files("#file", str(sheet))
    page.locator("form.import-upload button[type=submit]").click()

    report = page.locator("#report")
    expect(report).to_contain_text("共 3 行：2 行可以导入")
    problems = page.locator("table.import-problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("3")
    expect(problems.first).to_contain_text("校验位")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form.import-commit button[type=submit]").click()
    expect(page.locator("#result")).to_contain_text("已导入 2 行")

    page.goto(f"{live_server}/elders")
    expect(page.locator("main")).to_contain_text("周一")
    expect(page.locator("main")).to_contain_text("周三")
    expect(page.locator("main")).not_to_contain_text("周二")
