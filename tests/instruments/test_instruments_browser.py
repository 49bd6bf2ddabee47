"""An administrator imports a spreadsheet, tries the draft and publishes it, in a real browser.
Skipped without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium
from tests.instruments.test_instruments_registry import NEW_TITLE, barthel_v2

PASSWORD = "Browser-Test-Pass-42"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("instruments-browser"), PASSWORD, []) as base:
        yield base


def test_import_try_publish(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from instruments.xlsx import write_xlsx
    from scoring import parse_definition

    sheet = tmp_path / "barthel-2.xlsx"
    sheet.write_bytes(write_xlsx(parse_definition(yaml.safe_load(barthel_v2()))))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN").new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server}/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{server}/")
        page.goto(f"{server}/admin/instruments/")
        page.set_input_files("#file", str(sheet))
        page.fill("#note", "浏览器导入")
        page.get_by_role("button", name="导入为草稿").click()
        expect(page.locator("#diff")).to_contain_text(NEW_TITLE)
        for item in ("feeding", "bathing", "grooming", "dressing", "bowels", "bladder", "toilet",
                     "transfers", "mobility", "stairs"):
            page.locator(f"input[name='q_{item}']").first.check()
        page.get_by_role("button", name="计分").click()
        expect(page.locator("#try-result")).to_contain_text("100 / 100")
        page.locator("form[action$='/publish'] input[name=confirm]").check()
        page.locator("form[action$='/publish'] button").click()
        expect(page.locator(".badge")).to_contain_text("已发布")
        browser.close()
        assert not errors, errors
