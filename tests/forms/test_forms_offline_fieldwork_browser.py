"""Offline field work in a real browser, continued (tests/forms/test_forms_offline_browser.py has
the assessment's round trip): an inspection submitted offline is scored once on arrival; its
facts (vetoes) changed on both sides are asked like its answers; logging out clears the tablet's
offline data (or warns about unsent changes); another user signing in never sees the previous
user's records; the visit records where the device was at its start and its end (or the refusal),
offline through the outbox. Skipped without Chromium, except in CI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import (
    OFFLINE_PASSWORD,
    Tablet,
    api,
    count_rows,
    id_number,
    offline_storage,
    read_rows,
    start_assessment,
    start_inspection,
    take_offline,
    token,
)

pytestmark = pytest.mark.browser


def _fill_checklist(page: Any) -> int:
    """Answer every item of every section of the checklist (the first option, 0 for numbers)."""
    items = [f for f in page.locator("fieldset.item:visible").all() if "." in (f.get_attribute("data-item") or "")]
    for fieldset in items:
        options = fieldset.locator("label.option")
        if options.count():
            options.first.click()
        else:
            fieldset.locator("input[type=number]").first.fill("0")
    return len(items)


def test_an_inspection_submitted_offline_is_scored_once_on_arrival(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    iid = start_inspection(server, "station", "community-star")
    tablet = Tablet(browser, server)
    tablet.login("inspector1")
    take_offline(tablet, "/rating/inspections?status=in_progress", f"/api/v1/inspections/{iid}/offline")
    page = tablet.page
    page.goto(f"{server}/rating/inspections/{iid}")
    page.wait_for_selector("#checklist")
    tablet.offline(True)
    sections = page.locator("#checklist section.section").count()
    assert sections > 1
    answered = _fill_checklist(page)
    expect(page.locator("#save-status")).to_contain_text("本设备")
    answers = tablet.record(f"inspection:{iid}")["answers"]
    assert len([k for k in answers if "." in k]) == answered
    page.click("#checklist [data-submit]")
    expect(page.locator("#offline-submit-status")).to_contain_text("已排队提交")
    assert "submit" in tablet.outbox()
    assert page.locator("#checklist").count() == 1  # still the checklist: nothing was scored yet

    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    # The inspector sees the result once the server has scored it.
    expect(page.locator("section.result")).to_be_visible(timeout=60000)
    status, saved = api(server, "GET", f"/api/v1/inspections/{iid}", token(server, "inspector1"))
    assert status == 200 and saved["status"] == "submitted", saved
    assert saved["answers"] == answers
    assert saved["result"]["grade"]["label"] in page.locator("section.result .big-level").inner_text()
    assert count_rows("SELECT count(*) FROM audit_event WHERE action = 'rating.inspection.submit' AND target_id = ?",
                      str(iid)) == 1
    findings = len(saved["result"].get("findings", []))
    assert count_rows("SELECT count(*) FROM rating_action WHERE inspection_id = ?", iid) == findings
    assert tablet.outbox() == []
    assert tablet.record(f"inspection:{iid}") is None  # the submitted record left the device
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_the_facts_changed_on_both_sides_are_asked_like_the_answers(server: str, browser: Any) -> None:
    """A veto ticked offline while another inspector ticked another one: both shown, the inspector
    chooses; nothing is overwritten silently."""
    from playwright.sync_api import expect

    iid = start_inspection(server, "institution", "gbt37276-2018")
    tablet = Tablet(browser, server)
    tablet.login("inspector1")
    take_offline(tablet, "/rating/inspections?status=in_progress", f"/api/v1/inspections/{iid}/offline")
    page = tablet.page
    page.goto(f"{server}/rating/inspections/{iid}")
    page.wait_for_selector("#checklist")
    free = page.locator("input[name=veto]:not([disabled])")
    mine, theirs = free.nth(0).get_attribute("value"), free.nth(1).get_attribute("value")
    labels = tablet.record(f"inspection:{iid}")["bundle"]["definition"]["veto_codes"]
    tablet.offline(True)
    page.locator(f"input[name=veto][value='{mine}']").check()
    expect(page.locator("#save-status")).to_contain_text("本设备")

    other = token(server, "inspector2")
    status, current = api(server, "GET", f"/api/v1/inspections/{iid}", other)
    status, saved = api(server, "PUT", f"/api/v1/inspections/{iid}/answers", other,
                        {"answers": current["answers"], "facts": {"veto": [theirs]}, "version": current["version"]})
    assert status == 200, saved

    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    conflict = page.locator("#conflict-banner")
    expect(conflict).to_be_visible(timeout=30000)
    asked = conflict.locator("[data-conflict-item]")
    expect(asked).to_have_count(1)
    text = asked.first.inner_text()
    assert "一票否决" in text and labels[mine]["zh"] in text and labels[theirs]["zh"] in text, text
    assert current["facts"].get("veto", []) == []  # before: neither
    asked.first.locator("input[value=theirs]").check()
    page.click("[data-conflict-apply]")
    page.wait_for_selector("#checklist")
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    status, now = api(server, "GET", f"/api/v1/inspections/{iid}", other)
    assert now["facts"]["veto"] == [theirs]  # the chosen value, not silently the device's
    assert page.locator(f"input[name=veto][value='{theirs}']").is_checked()
    assert not page.locator(f"input[name=veto][value='{mine}']").is_checked()
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def _change_offline_answer(tablet: Tablet, aid: int, option: int) -> None:
    """Change the first always-shown choice of the first page; the save cannot reach the server."""
    from playwright.sync_api import expect

    bundle = tablet.record(f"assessment:{aid}")["bundle"]
    logic = bundle["definition"]["logic"]
    item = next(i for i in bundle["definition"]["sections"][0]["items"]
                if i["widget"] == "choice" and len(i["options"]) >= 3 and "relevant" not in logic.get(i["id"], {}))
    page = tablet.page
    if not page.url.endswith(bundle["pages"][0]):
        page.goto(tablet.base + bundle["pages"][0])
        page.wait_for_selector("#assessment-form")
    page.locator(f"fieldset[data-item='{item['id']}'] label.option").nth(option).click()
    expect(page.locator("#save-status")).to_contain_text("本设备")


def _kept(tablet: Tablet) -> Any:
    return offline_storage(tablet.page)


def test_logging_out_clears_the_offline_data_or_warns_about_unsent_changes(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试丁", id_number("19430404", "046"))
    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    page = tablet.page
    saves = f"**/api/v1/assessments/{aid}/answers"
    page.route(saves, lambda route: route.abort())  # the network drops every save
    _change_offline_answer(tablet, aid, 1)
    before = _kept(tablet)
    assert any(d.startswith("yiyang-u") for d in before["databases"]) and "yiyang-records" in before["caches"]

    # Changes wait: a warning in Chinese, and the choice to send them first (staying signed in).
    page.click("form[data-offline-logout] button")
    warning = page.locator("#offline-logout")
    expect(warning).to_be_visible()
    assert "1 项修改尚未发送" in warning.inner_text()
    page.unroute(saves)
    warning.locator("[data-offline-logout-send]").click()
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    assert page.url.startswith(f"{server}/assessments/")

    # Nothing waits: logging out deletes the records, the outbox and the kept pages, not the shell.
    page.click("form[data-offline-logout] button")
    page.wait_for_url(f"{server}/login")
    after = _kept(tablet)
    assert not [d for d in after["databases"] if d.startswith("yiyang")], after
    assert "yiyang-records" not in after["caches"] and any(c.startswith("yiyang-shell-") for c in after["caches"])
    assert after["local"] == [], after

    # Discarding unsent changes asks once more, then logs out and clears.
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    page.route(saves, lambda route: route.abort())
    _change_offline_answer(tablet, aid, 2)
    page.click("form[data-offline-logout] button")
    expect(page.locator("#offline-logout")).to_be_visible()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator("[data-offline-logout-discard]").click()
    page.wait_for_url(f"{server}/login")
    assert asked and "放弃" in asked[0]
    after = _kept(tablet)
    assert not [d for d in after["databases"] if d.startswith("yiyang")], after
    assert "yiyang-records" not in after["caches"]
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_another_user_signing_in_never_sees_the_previous_users_offline_records(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试戊", id_number("19440505", "057"))
    tablet = Tablet(browser, server)
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    page = tablet.page
    saves = f"**/api/v1/assessments/{aid}/answers"
    page.route(saves, lambda route: route.abort())
    _change_offline_answer(tablet, aid, 2)  # unsent: it must wait for assessor1, not be lost
    first_db = [d for d in _kept(tablet)["databases"] if d.startswith("yiyang-u")]
    assert len(first_db) == 1

    tablet.context.clear_cookies()  # assessor1 walked away without logging out
    # A database the device kept for everyone before there was one per user, nothing in it unsent.
    page.evaluate("""() => new Promise(done => { const o = indexedDB.open('yiyang', 1);
        o.onupgradeneeded = () => { const d = o.result; d.createObjectStore('records', {keyPath: 'key'});
          d.createObjectStore('outbox', {keyPath: 'seq', autoIncrement: true});
          d.createObjectStore('meta', {keyPath: 'name'}); };
        o.onsuccess = () => { o.result.close(); done(true); }; })""")
    page.goto(f"{server}/login")
    page.fill("#username", "assessor2")
    page.fill("#password", OFFLINE_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{server}/")
    page.evaluate("window.YiyangOffline.ready")
    assert page.evaluate("window.YiyangOffline.records()") == []
    assert page.evaluate("window.YiyangOffline.entries()") == []
    kept = _kept(tablet)
    assert "yiyang-records" not in kept["caches"] and kept["local"] == ["yiyang.user"]
    assert first_db[0] in kept["databases"]  # kept apart, unsent
    assert "yiyang" not in kept["databases"]  # the old shared one went: nothing in it waited
    page.goto(f"{server}/offline")
    expect(page.locator("#offline-empty")).to_be_visible()
    assert page.locator("#offline-records li").count() == 0
    page.goto(f"{server}/assessments/{aid}")  # a page of the record: not taken over by the device
    assert page.locator("#conflict-banner:visible").count() == 0

    # assessor1 signs in again: the change waiting for them is sent.
    page.click("form[data-offline-logout] button")
    page.wait_for_url(f"{server}/login")
    page.unroute(saves)
    tablet.login("assessor1")
    expect(page.locator("#offline-status")).to_contain_text("修改已全部发送", timeout=30000)
    status, now = api(server, "GET", f"/api/v1/assessments/{aid}", token(server, "assessor1"))
    record = tablet.record(f"assessment:{aid}")
    assert record is not None and now["answers"] == record["answers"]
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def _visit_places(aid: int) -> list[tuple[Any, ...]]:
    """(start status, start latitude, start accuracy, end status, end latitude) of the record's visits,
    once the server has a report with an end (the device sends them in the background)."""
    import time

    sql = ("SELECT location_status, latitude, accuracy_m, end_location_status, end_latitude FROM assessment_visit "
           "WHERE assessment_id = ? AND end_location_status != ''")
    for _ in range(100):
        found = read_rows(sql, aid)
        if found:
            return found
        time.sleep(0.2)
    return []


def test_the_visit_records_its_start_and_end_location_offline_through_the_outbox(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试己", id_number("19450606", "068"))
    tablet = Tablet(browser, server, permissions=["geolocation"],
                    geolocation={"latitude": 39.9042, "longitude": 116.4074, "accuracy": 12})
    tablet.login("assessor1")
    take_offline(tablet, "/assessments?status=draft", f"/api/v1/assessments/{aid}/offline")
    bundle = tablet.record(f"assessment:{aid}")["bundle"]
    page = tablet.page
    page.goto(server + bundle["pages"][0])
    expect(page.locator("[data-visit-status]")).to_contain_text("已记录时间和位置")
    tablet.offline(True)
    tablet.context.set_geolocation({"latitude": 39.9142, "longitude": 116.4174, "accuracy": 30})
    page.goto(server + bundle["pages"][1])  # kept on the device: the end of the visit is asked here
    page.wait_for_selector("#assessment-form")
    page.wait_for_function("() => window.YiyangOffline.entries().then(l => l.some(e => e.type === 'visit'"
                           " && e.body.end_location && e.body.end_location.latitude > 39.91))")
    # Newer totals replace the waiting report: one unsent visit entry per record, whatever the pages did.
    assert page.evaluate("window.YiyangOffline.entries().then(l => l.filter(e => e.type === 'visit'"
                         " && !e.attempted).length)") == 1

    tablet.offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => window.YiyangOffline.entries().then(l => l.length === 0)")
    [(start, start_lat, accuracy, end, end_lat)] = _visit_places(aid)
    assert (start, start_lat, accuracy) == ("granted", 39.9042, 12)  # the start stays the first position
    assert (end, end_lat) == ("granted", 39.9142)
    assert not tablet.errors, tablet.errors
    tablet.context.close()


def test_a_refused_location_is_recorded_at_the_start_and_the_end_not_an_error(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    aid = start_assessment(server, "离线测试庚", id_number("19460707", "079"))
    tablet = Tablet(browser, server)  # geolocation not granted: the browser refuses
    tablet.login("assessor1")
    page = tablet.page
    page.goto(f"{server}/assessments/{aid}/fill")
    expect(page.locator("[data-visit-status]")).to_contain_text("未允许定位")
    assert page.locator("#assessment-form").is_visible()
    assert _visit_places(aid) == [("denied", None, None, "denied", None)]
    assert not tablet.errors, tablet.errors
    tablet.context.close()
