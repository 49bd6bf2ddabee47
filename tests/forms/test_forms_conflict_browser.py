"""The online checklist's conflict is the assessment form's and the outbox's (conflict.js): two
tablets edit the same inspection (not downloaded); the second one's stale save asks item by item,
both values with their labels (an answer and a fact, the vetoes), takes what only the other
changed, and saves the choice with the new version."""

from __future__ import annotations

from typing import Any

from tests.browser import Tablet, api, start_inspection, token


def _number_items(page: Any) -> list[str]:
    """The checklist's items entered as numbers (GB/T 37276: its section scores)."""
    return [str(f.get_attribute("data-item")) for f in page.locator("#checklist fieldset.item").all()
            if f.locator("input[type=number]").count()]


def _saved(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-autosave-status]")).to_contain_text("已自动保存", timeout=15000)


def test_a_stale_checklist_save_asks_item_by_item_and_saves_the_choice(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    iid = start_inspection(server, "institution", "gbt37276-2018")
    url = f"{server}/rating/inspections/{iid}"
    mine_tablet = Tablet(browser, server)
    mine_tablet.login("inspector1")
    # The second tablet: another browser context with the same sign-in (no second login to wait for).
    their_tablet = Tablet(browser, server, storage_state=mine_tablet.context.storage_state())
    for tablet in (mine_tablet, their_tablet):
        tablet.page.goto(url)
        tablet.page.wait_for_selector("#checklist")
    mine, theirs = mine_tablet.page, their_tablet.page
    both, theirs_only, mine_only = _number_items(mine)[:3]
    vetoes = mine.locator("#checklist input[name=veto]:not([disabled])")
    veto_mine, veto_theirs = vetoes.nth(0).get_attribute("value"), vetoes.nth(1).get_attribute("value")

    def enter(page: Any, item: str, value: str) -> None:
        page.fill(f"fieldset[data-item='{item}'] input[type=number]", value)

    def shown(page: Any, item: str) -> str:
        return str(page.input_value(f"fieldset[data-item='{item}'] input[type=number]"))

    # The other tablet saves first: one item both change, one only it changes, a veto.
    enter(theirs, both, "1")
    enter(theirs, theirs_only, "1")
    theirs.locator(f"input[name=veto][value='{veto_theirs}']").check()
    _saved(theirs)

    # This tablet, still on the old version: the same item otherwise, another item, another veto.
    enter(mine, both, "0")
    enter(mine, mine_only, "1")
    mine.locator(f"input[name=veto][value='{veto_mine}']").check()
    banner = mine.locator("#conflict-banner")
    expect(banner).to_be_visible(timeout=15000)
    asked = banner.locator("[data-conflict-item]")
    expect(asked).to_have_count(2)  # the answer and the vetoes; nothing else is asked
    answer = asked.filter(has_not_text="一票否决项")
    expect(answer).to_contain_text("用我的答案：0")
    expect(answer).to_contain_text("用服务器上的答案：1")
    veto = asked.filter(has_text="一票否决项")
    expect(veto.locator("label")).to_have_count(2)
    # Only the other tablet's change is taken at once, this tablet's own change is kept.
    assert shown(mine, theirs_only) == "1" and shown(mine, mine_only) == "1" and shown(mine, both) == "0"

    answer.locator("input[value=theirs]").check()  # their answer, my veto
    banner.locator("[data-conflict-apply]").click()
    expect(banner).to_be_hidden()
    _saved(mine)

    status, now = api(server, "GET", f"/api/v1/inspections/{iid}", token(server, "inspector1"))
    assert status == 200, now
    theirs.reload()
    theirs.wait_for_selector("#checklist")
    assert [shown(theirs, item) for item in (both, theirs_only, mine_only)] == ["1", "1", "1"]
    assert now["answers"][both] == 1 and now["answers"][mine_only] == 1, now["answers"]
    assert now["facts"].get("veto") == [veto_mine], now["facts"]
    assert not mine_tablet.errors and not their_tablet.errors, mine_tablet.errors + their_tablet.errors
    mine_tablet.context.close()
    their_tablet.context.close()
