"""Offline field work in a real browser (Playwright, system Chromium, the context set offline):
take an assessment or an inspection offline ("带到离线"), fill every section without a network
across pages, reload, close and reopen the page, add a photo, come back online, and the server
has every answer and the photo exactly once; a change another session made meanwhile shows both
values and the chosen one wins. Skipped without Chromium, except in CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import (
    OFFLINE_PASSWORD,
    Tablet,
    answer_visible,
    api,
    count_rows,
    id_number,
    png_file,
    shot,
    start_assessment,
    take_offline,
    token,
)

pytestmark = pytest.mark.browser


def test_an_assessment_is_filled_offline_across_pages_and_arrives_once(server: str, browser: Any,
                                                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试甲", id_number("19400101", "013"))
    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    page = tablet.page
    bundle = tablet.record(f"assessment:{aid}")["bundle"]
    pages = bundle["pages"]
    page.goto(server + pages[0])
    page.wait_for_selector("#assessment-form")

    tablet.offline(True)
    for index, url in enumerate(pages):
        assert page.url.endswith(url), (page.url, url)
        answer_visible(page)
        expect(page.locator("#save-status")).to_contain_text("本设备")
        if index == 0:
            shot(page, "fill", ".fill-head")
        if index == 1:
            # A photo taken offline waits in the outbox (IndexedDB), not in the page.
            photo_input = page.locator("input[type=file][data-photo-upload]").first
            photo_box = photo_input.locator("xpath=ancestor::*[@data-photos-for][1]")
            photo_box.evaluate("d => { d.open = true; }")
            photo_input.set_input_files(str(png_file(tmp_path / "evidence.png")))
            expect(photo_box.locator("[data-photo-status]")).to_contain_text("照片已保存在本设备上")
            assert tablet.outbox().count("photo") == 1
            # Reload without a network: the page comes from the device, with its answers.
            chosen = page.locator("fieldset.item:visible input:checked").count()
            page.reload()
            page.wait_for_selector("#assessment-form")
            assert page.locator("fieldset.item:visible input:checked").count() == chosen
            photo_box = page.locator("input[type=file][data-photo-upload]").first.locator(
                "xpath=ancestor::*[@data-photos-for][1]")
            assert photo_box.locator("img[data-local-photo]").count() == 1
        if index == 2:
            # Close the page and open it again (the tablet was put away).
            page.close()
            page = tablet.page = tablet.open()
            page.goto(server + url)
            page.wait_for_selector("#assessment-form")
            answer_visible(page)
        if page.locator("#to-review").count():
            page.click("#to-review")
            page.wait_for_url(server + bundle["review"])
        else:
            page.click("#next-page")
            page.wait_for_url(server + pages[index + 1])
    page.wait_for_selector("#offline-review:not([hidden])")
    assert page.locator("[data-offline-missing]").is_hidden(), page.locator("[data-offline-missing]").inner_text()
    preview = page.locator("[data-offline-level]").inner_text()  # engine.js, from the compiled definition
    assert page.locator("[data-offline-sign]").is_visible()
    answers = tablet.record(f"assessment:{aid}")["answers"]
    page.click("[data-offline-submit]")
    expect(page.locator("#offline-submit-status")).to_contain_text("已排队提交")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "review", "#offline-review", height=520)
    assert "submit" in tablet.outbox()

    tablet.offline(False)
    page.wait_for_url(f"**/assessments/{aid}", timeout=60000)
    status, saved = api(server, "GET", f"/api/v1/assessments/{aid}", token(server, "assessor1"))
    assert status == 200 and saved["status"] == "submitted", saved
    assert saved["answers"] == answers
    assert count_rows("SELECT count(*) FROM assessment_photo WHERE assessment_id = ?", aid) == 1
    # The level previewed offline is the one the server gave on arrival.
    assert saved["result"]["level"]["label"] in preview and f"总分 {saved['result']['total']:g}" in preview
    assert tablet.outbox() == []
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def _choice_items(bundle: dict[str, Any], section: int = 0) -> list[dict[str, Any]]:
    """Always-shown single choices with at least three options on a section's page."""
    logic = bundle["definition"]["logic"]
    return [i for i in bundle["definition"]["sections"][section]["items"]
            if i["widget"] == "choice" and len(i["options"]) >= 3 and "relevant" not in logic.get(i["id"], {})]


def _click(page: Any, item: str, option: int) -> None:
    page.locator(f"fieldset[data-item='{item}'] label.option").nth(option).click()


def test_a_conflict_made_while_offline_shows_both_values_and_the_chosen_one_wins(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试乙", id_number("19410202", "024"))
    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    bundle = tablet.record(f"assessment:{aid}")["bundle"]
    both, mine_only, theirs_only = _choice_items(bundle)[:3]
    page = tablet.page
    page.goto(server + bundle["pages"][0])
    page.wait_for_selector("#assessment-form")
    tablet.offline(True)
    _click(page, both["id"], 1)
    _click(page, mine_only["id"], 1)
    expect(page.locator("#save-status")).to_contain_text("本设备")

    # Meanwhile another assessor changes one item this tablet changed, and one it did not.
    other = token(server, "assessor2")
    status, current = api(server, "GET", f"/api/v1/assessments/{aid}", other)
    status, saved = api(server, "PUT", f"/api/v1/assessments/{aid}/answers", other, {
        "answers": {both["id"]: both["options"][2]["value"], theirs_only["id"]: theirs_only["options"][2]["value"]},
        "version": current["version"]})
    assert status == 200, saved

    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    conflict = page.locator("#conflict-banner")
    expect(conflict).to_be_visible(timeout=30000)
    asked = conflict.locator("[data-conflict-item]")
    expect(asked).to_have_count(1)
    shot(page, "conflict", "#conflict-banner")
    text = asked.first.inner_text()
    assert both["options"][1]["label"]["zh"] in text and both["options"][2]["label"]["zh"] in text
    asked.first.locator("input[value=mine]").check()
    page.click("[data-conflict-apply]")
    page.wait_for_selector("#assessment-form")
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    status, now = api(server, "GET", f"/api/v1/assessments/{aid}", other)
    assert now["answers"][both["id"]] == both["options"][1]["value"]  # the chosen value won
    assert now["answers"][mine_only["id"]] == mine_only["options"][1]["value"]
    assert now["answers"][theirs_only["id"]] == theirs_only["options"][2]["value"]  # not overwritten
    assert page.locator(f"fieldset[data-item='{theirs_only['id']}'] input:checked").get_attribute("value") \
        is not None
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_an_inspection_checklist_offline_with_a_photo_and_a_conflict(server: str, browser: Any,
                                                                     tmp_path: Path) -> None:
    from playwright.sync_api import expect

    key = token(server, "inspector1")
    status, facilities = api(server, "GET", "/api/v1/facilities?kind=station", key)
    assert status == 200, facilities
    station = facilities["items"][0]["id"]
    status, created = api(server, "POST", "/api/v1/inspections", key, {"facility_id": station, "scheme": "community-star"})
    assert status in (200, 201), created
    iid = created["id"]

    tablet = Tablet(browser, server)
    tablet.login("inspector1")
    take_offline(tablet, "/rating/inspections?status=in_progress", f"/api/v1/inspections/{iid}/offline")
    page = tablet.page
    page.goto(f"{server}/rating/inspections/{iid}")
    page.wait_for_selector("#checklist")
    tablet.offline(True)
    items = [f for f in page.locator("fieldset.item:visible").all() if "." in (f.get_attribute("data-item") or "")]
    for fieldset in items:
        radios = fieldset.locator("label.option")
        if radios.count():
            radios.first.click()
        else:
            fieldset.locator("input[type=number]").first.fill("0")
    first_item = items[0].get_attribute("data-item")
    noted = items[1].get_attribute("data-item")
    items[1].locator("details.note summary").click()
    items[1].locator("textarea").fill("我的备注：灭火器已检查")
    photo_input = page.locator("input[type=file][data-autoupload]").first
    photo_item = page.locator("form.photo-form input[name=item]").first.get_attribute("value")
    photo_input.set_input_files(str(png_file(tmp_path / "evidence.png")))
    expect(page.locator("#save-status")).to_contain_text("照片已保存在本设备上")
    page.reload()
    page.wait_for_selector("#checklist")
    assert page.locator(f"[data-photos-for='{photo_item}'] img[data-local-photo]").count() == 1
    answers = tablet.record(f"inspection:{iid}")["answers"]
    assert len([k for k in answers if "." in k]) == len(items)
    # The level previewed on the device, with the inspection's facts (not "needs the network").
    expect(page.locator("#checklist [data-offline-level]")).to_contain_text("预览：总分")

    # Another inspector changes the first item on the server meanwhile.
    other = token(server, "inspector2")
    status, current = api(server, "GET", f"/api/v1/inspections/{iid}", other)
    option_values = tablet.record(f"inspection:{iid}")["bundle"]["definition"]["items"][first_item]["options"]
    theirs = [v for v in option_values.values() if v != answers[first_item]][0]
    status, saved = api(server, "PUT", f"/api/v1/inspections/{iid}/answers", other,
                        {"answers": {first_item: theirs}, "notes": {noted: "对方的备注"}, "version": current["version"]})
    assert status == 200, saved

    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    conflict = page.locator("#conflict-banner")
    expect(conflict).to_be_visible(timeout=30000)
    expect(conflict.locator("[data-conflict-item]")).to_have_count(2)  # the answer and the note
    note_choice = conflict.locator("[data-conflict-item]").filter(has_text="备注")
    assert "我的备注：灭火器已检查" in note_choice.inner_text() and "对方的备注" in note_choice.inner_text()
    conflict.locator("[data-conflict-item]").filter(has_not_text="备注").locator("input[value=theirs]").check()
    note_choice.locator("input[value=mine]").check()
    page.click("[data-conflict-apply]")
    page.wait_for_selector("#checklist")
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    status, now = api(server, "GET", f"/api/v1/inspections/{iid}", other)
    expected = {**answers, first_item: theirs}
    assert {k: v for k, v in now["answers"].items()} == {k: v for k, v in expected.items() if v is not None}
    assert now["notes"] == {noted: "我的备注：灭火器已检查"}
    assert count_rows("SELECT count(*) FROM rating_photo WHERE inspection_id = ?", iid) == 1
    assert page.locator(f"[data-photos-for='{photo_item}'] img").count() == 1
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_an_expired_login_on_reconnect_asks_to_sign_in_and_then_sends_the_outbox(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试丙", id_number("19420303", "035"))
    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    bundle = tablet.record(f"assessment:{aid}")["bundle"]
    item = _choice_items(bundle)[0]
    page = tablet.page
    page.goto(server + bundle["pages"][0])
    page.wait_for_selector("#assessment-form")
    tablet.offline(True)
    _click(page, item["id"], 2)
    expect(page.locator("#save-status")).to_contain_text("本设备")
    tablet.context.clear_cookies()  # the login lapses while the tablet is away
    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    login = page.locator("#offline-status [data-offline-login]")
    expect(login).to_be_visible(timeout=30000)
    assert [kind for kind in tablet.outbox() if kind != "visit"] == ["save"]  # (and the visit record)
    login.click()
    page.fill("#username", "assessor1")
    page.fill("#password", OFFLINE_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    status, now = api(server, "GET", f"/api/v1/assessments/{aid}", token(server, "assessor1"))
    assert now["answers"][item["id"]] == item["options"][2]["value"]
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_an_offline_inspection_previews_its_level_with_the_inspections_facts(server: str, browser: Any) -> None:
    """GB/T 37276's level depends on facts (vetoes): the preview on the device uses the
    inspection's facts, so it gives a level instead of "预览需要联网"."""
    from playwright.sync_api import expect

    key = token(server, "inspector1")
    status, facilities = api(server, "GET", "/api/v1/facilities?kind=institution", key)
    assert status == 200 and facilities["items"], facilities
    status, created = api(server, "POST", "/api/v1/inspections", key,
                          {"facility_id": facilities["items"][-1]["id"], "scheme": "gbt37276-2018"})
    assert status in (200, 201), created
    iid = created["id"]
    tablet = Tablet(browser, server)
    tablet.login("inspector1")
    take_offline(tablet, "/rating/inspections?status=in_progress", f"/api/v1/inspections/{iid}/offline")
    page = tablet.page
    page.goto(f"{server}/rating/inspections/{iid}")
    page.wait_for_selector("#checklist")
    tablet.offline(True)
    fieldset = page.locator("fieldset.item:visible").first
    if fieldset.locator("label.option").count():
        fieldset.locator("label.option").first.click()
    else:
        fieldset.locator("input[type=number]").first.fill("0")
    level = page.locator("#checklist [data-offline-level]")
    expect(level).to_contain_text("预览：总分")
    assert "联网" not in level.inner_text()
    assert not tablet.errors, tablet.errors
    tablet.context.close()
