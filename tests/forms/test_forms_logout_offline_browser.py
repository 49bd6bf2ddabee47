"""Logging out without a network (issue #15): offline.js clears the device, the logout cannot
reach the server, and the service worker shows the "signed out on this device" page in the
page's language instead of the browser's error page; back online, the next page still signed in
ends the server's session, and signing in works."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import Tablet, offline_storage

pytestmark = pytest.mark.browser


def test_logging_out_offline_shows_the_signed_out_page_and_the_next_sign_in_works(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    page = tablet.page
    page.locator(".topbar-tools button[lang=en]").click()  # the page's language: English
    expect(page.locator("form[data-offline-logout] input[name=lang]")).to_have_value("en")

    tablet.offline(True)
    page.click("form[data-offline-logout] button")
    expect(page.locator("h1")).to_have_text("Signed out on this device")
    expect(page.locator("main")).to_contain_text("has been cleared")
    expect(page.locator("main")).to_contain_text("at the next sign-in")
    kept = offline_storage(page)
    assert not [d for d in kept["databases"] if d.startswith("yiyang")], kept
    assert kept["local"] == ["yiyang.signed-out"], kept

    # Back online: the sign-in link meets the session the server still has; it is ended first.
    tablet.offline(False)
    page.locator("[data-signed-out] a").click()
    page.wait_for_url(f"{server}/login")
    expect(page.locator("#username")).to_be_visible()
    assert offline_storage(page)["local"] == []
    tablet.login("assessor1")
    assert not tablet.errors, tablet.errors
    tablet.context.close()
