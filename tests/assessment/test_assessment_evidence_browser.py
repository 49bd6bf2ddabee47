"""Evidence in a real browser at tablet size: a photo added on the fill page appears at once (the
upload goes through the API with an Idempotency-Key), the visit record asks for the location and
says what it recorded, and a signature drawn with the pointer on the review page is saved."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.assessment.test_assessment_browser import PASSWORD, _id_number
from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    from assessment.demo import seed_demo

    with demo_server(tmp_path_factory.mktemp("evidence-browser"), PASSWORD, [seed_demo]) as base:
        yield base


@pytest.fixture()
def page(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True,
                                      geolocation={"latitude": 39.9087, "longitude": 116.3975, "accuracy": 12},
                                      permissions=["geolocation"])
        tab = context.new_page()
        tab.set_default_timeout(15000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        yield tab
        context.close()
        browser.close()
        assert not errors, f"browser errors: {errors}"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, format="PNG")
    return out.getvalue()


def test_photo_on_the_fill_page_and_a_signature_drawn_with_the_pointer(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server}/login")
    page.fill("#username", "assessor1")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/elders/new")
    page.fill("#name", "周桂兰")
    page.check("#gender-1")
    page.fill("#birth_date", "1944-03-08")
    page.fill("#id_number", _id_number("110101", "19440308", "004"))
    page.locator("form button[type=submit]").last.click()
    page.click("#start-assessment")
    page.wait_for_selector("#assessment-form")

    # The visit record: the device's location is asked for once and the page says it was kept.
    expect(page.locator("[data-visit-status]")).to_contain_text("已记录时间和位置")

    # A photo: the camera input of the first item; the thumbnail appears without leaving the page.
    box = page.locator("[data-photos-for]").first
    box.locator("summary").click()
    camera = box.locator("input[data-photo-upload]")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    assert box.locator("[data-photo-fallback]").is_hidden()  # with script, choosing the picture uploads it
    camera.set_input_files({"name": "room.png", "mimeType": "image/png", "buffer": _png()})
    expect(box.locator("[data-photo-list] img")).to_have_count(1)
    expect(box.locator("[data-photo-status]")).to_contain_text("照片已上传")
    src = box.locator("[data-photo-list] img").first.get_attribute("src")
    assert page.request.get(f"{live_server}{src}").headers["content-type"] == "image/jpeg"
    page.reload()
    expect(page.locator("[data-photos-for]").first.locator("[data-photo-list] img")).to_have_count(1)

    # The elder signs on the review page: a stroke drawn with the pointer, saved as the elder's.
    page.goto(page.url.split("/fill")[0] + "/review")
    canvas = page.locator("#person-pad")
    canvas.scroll_into_view_if_needed()
    area = canvas.bounding_box()
    assert area is not None and area["height"] >= 150
    for height in (page.locator("[data-pad-clear]").bounding_box()["height"],
                   page.locator("#save-person-signature").bounding_box()["height"]):
        assert height >= 44
    page.mouse.move(area["x"] + 30, area["y"] + 120)
    page.mouse.down()
    for step in range(1, 20):
        page.mouse.move(area["x"] + 30 + step * 20, area["y"] + 120 - (step % 5) * 15)
    page.mouse.up()
    drawn = page.evaluate("""() => {
        const c = document.getElementById('person-pad');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 3; i < data.length; i += 4) { if (data[i]) { ink += 1; } }
        return ink; }""")
    assert drawn > 100  # the pointer left a line on the pad
    page.click("#save-person-signature")
    expect(page.locator("div.flash")).to_contain_text("签名已保存")
    expect(page.locator(".drawn-list img")).to_have_count(1)
    expect(page.locator(".drawn-list")).to_contain_text("有效")
    shown = page.locator(".drawn-list img").first.get_attribute("src")
    assert page.request.get(f"{live_server}{shown}").headers["content-type"] == "image/png"
