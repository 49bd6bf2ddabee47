"""The organisation picker (accounts/picker.py, templates/_org_picker.html): a <select> while the
field's scope holds at most THRESHOLD organisations, a search box above it; a name or id typed
without JavaScript is found uniquely within the scope or refused with a reason; the write forms
keep their scope (managed, active, operator) whichever the page draws."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from accounts import picker
from accounts.models import OrganisationContract, User
from core.timeutil import utcnow
from tests.conftest import api_token, login
from tests.factories import OrganisationFactory, UserFactory
from tests.statements import counted


@pytest.fixture()
def place(db_session: Any, org_tree: dict[str, Any]) -> dict[str, Any]:
    """Two streets called 城关街道 (one per district), a deactivated street, an operator, and an
    agency (its own tree) holding a contract over district 2."""
    d1, d2 = org_tree["district1"], org_tree["district2"]
    west = OrganisationFactory(name="城关街道", kind="street", parent=d1)
    east = OrganisationFactory(name="城关街道", kind="street", parent=d2)
    closed = OrganisationFactory(name="旧城街道", kind="street", parent=d1, is_active=False)
    operator = OrganisationFactory(name="康乐运营公司", kind="operator", parent=d1)
    db_session.add(OrganisationContract(agency_id=org_tree["other"].id, organisation_id=d2.id,
                                        valid_from=utcnow().date()))
    admin = UserFactory(organisation=org_tree["city"], roles="admin inspector", username="city_admin")
    agency_admin = UserFactory(organisation=org_tree["other"], roles="admin", username="agency_admin")
    db_session.commit()
    return {**org_tree, "west": west, "east": east, "closed": closed, "operator": operator, "admin": admin,
            "agency_admin": agency_admin}


@pytest.fixture()
def few(monkeypatch: pytest.MonkeyPatch) -> None:
    """A province in miniature: more than two organisations to choose from is a search box."""
    monkeypatch.setattr(picker, "THRESHOLD", 2)


def _combobox(html: str, name: str) -> str:
    match = re.search(rf'<input type="text"[^>]*name="{name}_text"[^>]*>', html)
    assert match, f"no search box for {name}"
    return match.group(0)


# --- the helper ---------------------------------------------------------------------------------


def test_below_the_threshold_the_options_are_every_organisation_of_the_scope_in_tree_order(app, db_session, place):
    with app.test_request_context():
        visible = picker.build(db_session, place["admin"], name="org")
        assert visible.options is not None and not visible.is_search
        assert [o.path for o in visible.options] == sorted(o.path for o in visible.options)
        names = {o.name for o in visible.options}
        assert {"测试市", "测试一区", "测试二区", "城关街道", "旧城街道", "康乐运营公司"} == names
        agency = picker.build(db_session, place["agency_admin"], name="org")
        assert {o.id for o in agency.options or []} == {place["other"].id, place["district2"].id, place["east"].id}
        managed = picker.build(db_session, place["agency_admin"], name="organisation_id",
                               scope=picker.Scope(managed=True, active=True))
        assert [o.id for o in managed.options or []] == [place["other"].id]  # not the contracted district
        active = picker.build(db_session, place["admin"], name="o", scope=picker.Scope(active=True))
        assert place["closed"].id not in {o.id for o in active.options or []}
        kept = picker.build(db_session, place["admin"], name="o", scope=picker.Scope(active=True, keep=place["closed"].id),
                            selected=place["closed"].id)
        assert kept.selected is not None and kept.selected.id == place["closed"].id
        operators = picker.build(db_session, place["admin"], name="o", scope=picker.Scope(kind="operator"))
        assert [o.id for o in operators.options or []] == [place["operator"].id]


def test_above_the_threshold_the_picker_loads_no_organisation_but_the_chosen_one(app, db_session, place, few):
    with app.test_request_context():
        engine = db_session.get_bind()
        with counted(getattr(engine, "engine", engine)) as seen:
            box = picker.build(db_session, place["admin"], name="org", selected=str(place["west"].id))
        assert box.is_search and box.options is None
        assert box.selected is not None and box.text == "城关街道"
        assert len(seen) <= 4 and any("LIMIT" in s.upper() for s in seen)  # a capped count, never the whole tree
        outside = picker.build(db_session, place["admin"], name="org", selected=str(place["other"].id))
        assert outside.selected is None and outside.text == ""


def test_a_typed_name_or_id_is_found_only_when_unique_within_the_scope(app, db_session, place):
    admin, scope = place["admin"], picker.VISIBLE
    with app.test_request_context():
        assert picker.resolve(db_session, admin, scope, " 测试一区 ")[0] == place["district1"]
        assert picker.resolve(db_session, admin, scope, str(place["west"].id))[0] == place["west"]
        org, problem = picker.resolve(db_session, admin, scope, "城关街道")
        assert org is None and problem is not None and "有多个名为“城关街道”的机构" in problem
        assert f"测试一区 / 城关街道（编号 {place['west'].id}）" in problem
        assert f"测试二区 / 城关街道（编号 {place['east'].id}）" in problem
        org, problem = picker.resolve(db_session, admin, scope, "城关")
        assert org is None and problem is not None and "名称中含有它的有" in problem
        org, problem = picker.resolve(db_session, admin, scope, "无关机构")  # another tree: as if absent
        assert org is None and problem is not None and "找不到名为“无关机构”的机构" in problem
        assert picker.resolve(db_session, admin, scope, str(place["other"].id))[0] is None
        # The agency sees district 2 through its contract, but may not place users there.
        agency = place["agency_admin"]
        assert picker.resolve(db_session, agency, scope, "城关街道")[0] == place["east"]
        assert picker.resolve(db_session, agency, picker.Scope(managed=True), "城关街道")[0] is None
        assert picker.resolve(db_session, admin, picker.Scope(active=True), "旧城街道")[0] is None
        assert picker.resolve(db_session, admin, picker.Scope(kind="operator"), "测试一区")[0] is None


def test_the_macro_draws_a_select_or_a_labelled_combobox(app, db_session, place, monkeypatch):
    from flask import render_template_string

    template = '{% from "_org_picker.html" import org_picker %}{{ org_picker(p, "机构") }}'
    with app.test_request_context():
        html = render_template_string(template, p=picker.build(db_session, place["admin"], name="org",
                                                               selected=place["west"].id, blank="全部"))
        assert '<select name="org" id="org" class="input"><option value="">全部</option>' in html
        assert f'<option value="{place["west"].id}" selected>城关街道</option>' in html
        assert "combobox" not in html and "org-picker.js" not in html
        monkeypatch.setattr(picker, "THRESHOLD", 1)
        html = render_template_string(template, p=picker.build(
            db_session, place["admin"], name="org", selected=place["west"].id, blank="全部",
            scope=picker.Scope(managed=True, active=True, kind="street")))
    box = _combobox(html, "org")
    assert 'role="combobox"' in box and 'aria-expanded="false"' in box and 'aria-controls="org-list"' in box
    assert 'value="城关街道"' in box and '<label class="org-picker-label" for="org">机构</label>' in html
    assert f'<input type="hidden" name="org" value="{place["west"].id}"' in html
    assert 'role="listbox"' in html and 'data-query="managed=1&amp;active=1&amp;kind=street"' in html
    assert 'data-api="/api/v1/organisations"' in html and "js/org-picker.js" in html
    assert "data-org-picker-messages" in html and "<select" not in html


# --- the pages ----------------------------------------------------------------------------------

FILTER_PAGES = ["/admin/users", "/assessments", "/assessments/due", "/elders", "/stats", "/rating/rewards"]
FORM_PAGES = [("/admin/users/new", "organisation_id"), ("/elders/new", "organisation_id"),
              ("/rating/facilities/new", "organisation_id"), ("/rating/facilities/new", "operator_organisation_id")]


@pytest.mark.parametrize("url", FILTER_PAGES)
def test_every_filter_is_a_select_below_the_threshold_and_a_search_box_above(client, place, monkeypatch, url):
    login(client, place["admin"])
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<select name="org" id="org"', page) and "org-picker.js" not in page
    monkeypatch.setattr(picker, "THRESHOLD", 2)
    page = client.get(url).get_data(as_text=True)
    assert '<select name="org"' not in page and 'role="combobox"' in _combobox(page, "org")
    assert "js/org-picker.js" in page


@pytest.mark.parametrize(("url", "name"), FORM_PAGES)
def test_every_form_field_is_a_select_below_the_threshold_and_a_search_box_above(client, place, monkeypatch, url,
                                                                                  name):
    login(client, place["admin"])
    page = client.get(url).get_data(as_text=True)
    assert f'name="{name}"' in page and f'name="{name}_text"' not in page
    monkeypatch.setattr(picker, "THRESHOLD", 0)  # one operator organisation is already too many
    page = client.get(url).get_data(as_text=True)
    assert 'role="combobox"' in _combobox(page, name)


def test_a_typed_filter_redirects_to_the_id_or_says_what_it_could_mean(client, place, few):
    login(client, place["admin"])
    found = client.get("/admin/users?org=&org_text=测试一区&role=admin&cursor=abc")
    assert found.status_code == 302
    target = urlsplit(found.headers["Location"])
    assert target.path == "/admin/users"
    assert parse_qs(target.query) == {"org": [str(place["district1"].id)], "role": ["admin"]}
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert 'value="测试一区"' in _combobox(page, "org")
    cleared = client.get(f"/elders?org={place['west'].id}&org_text=")
    assert cleared.status_code == 302 and "org" not in parse_qs(urlsplit(cleared.headers["Location"]).query)
    unchanged = client.get(f"/stats?org={place['west'].id}&org_text=城关街道")  # the shown name keeps the id
    assert unchanged.status_code == 302 and f"org={place['west'].id}" in unchanged.headers["Location"]
    for url in ("/admin/users", "/assessments", "/assessments/due", "/elders", "/stats", "/rating/rewards"):
        refused = client.get(f"{url}?org=&org_text=城关街道")
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422, url
        assert "有多个名为“城关街道”的机构" in html and f"编号 {place['east'].id}" in html, url
        assert 'value="城关街道"' in _combobox(html, "org") and 'aria-invalid="true"' in _combobox(html, "org")
    missing = client.get("/assessments?org_text=无关机构").get_data(as_text=True)
    assert "找不到名为“无关机构”的机构" in missing


def test_the_user_forms_take_a_typed_name_but_nothing_outside_what_the_administrator_manages(
        client, db_session, place, monkeypatch):
    monkeypatch.setattr(picker, "THRESHOLD", 0)  # the agency manages one organisation: a search box all the same
    login(client, place["agency_admin"])
    form = {"username": "picked", "password": "Picked-Pass-2026", "roles": ["assessor"]}
    for refused in ({"organisation_id": str(place["east"].id)},  # contracted: visible, not managed
                    {"organisation_id": "", "organisation_id_text": "城关街道"},
                    {"organisation_id": str(place["other"].id), "organisation_id_text": "测试二区"}):
        response = client.post("/admin/users/new", data={**form, **refused})
        assert response.status_code == 422, refused
        assert db_session.exec(select(User).where(User.username == "picked")).first() is None
    page = client.post("/admin/users/new", data={**form, "organisation_id": "", "organisation_id_text": "城关街道"})
    assert "找不到名为“城关街道”的机构" in page.get_data(as_text=True)
    made = client.post("/admin/users/new", data={**form, "organisation_id": "", "organisation_id_text": "无关机构"})
    assert made.status_code == 302
    user = db_session.exec(select(User).where(User.username == "picked")).one()
    assert user.organisation_id == place["other"].id

    client.post("/logout")
    login(client, place["admin"])
    user = UserFactory(organisation=place["district1"], roles="assessor")
    db_session.commit()
    edit = {"display_name": "改", "roles": ["assessor"], "version": str(user.version), "is_active": "y"}
    closed = client.post(f"/admin/users/{user.id}", data={**edit, "organisation_id": str(place["district1"].id),
                                                            "organisation_id_text": "旧城街道"})  # deactivated
    assert closed.status_code == 422 and 'value="旧城街道"' in _combobox(closed.get_data(as_text=True), "organisation_id")
    assert client.post(f"/admin/users/{user.id}", data={**edit, "organisation_id": str(place["other"].id)}
                       ).status_code == 422  # another tree, by id
    moved = client.post(f"/admin/users/{user.id}", data={**edit, "organisation_id": str(place["district1"].id),
                                                           "organisation_id_text": str(place["west"].id)})
    assert moved.status_code == 302
    db_session.refresh(user)
    assert user.organisation_id == place["west"].id


def test_the_elder_and_facility_forms_keep_their_scope_in_the_search_box(client, place, monkeypatch):
    monkeypatch.setattr(picker, "THRESHOLD", 0)
    login(client, place["admin"])
    elder = client.post("/elders/new", data={"name": "张三", "organisation_id": "",
                                             "organisation_id_text": "无关机构"})
    assert elder.status_code == 422 and "找不到名为“无关机构”的机构" in elder.get_data(as_text=True)
    facility = {"name": "颐养院", "kind": "institution", "beds": "10", "filing_status": "filed"}
    refused = client.post("/rating/facilities/new", data={**facility, "operator_organisation_id": "",
                                                          "operator_organisation_id_text": "测试一区"})
    assert refused.status_code == 422 and "找不到名为“测试一区”的机构" in refused.get_data(as_text=True)
    assert 'value="测试一区"' in _combobox(refused.get_data(as_text=True), "operator_organisation_id")
    made = client.post("/rating/facilities/new", data={**facility, "organisation_id": "",
                                                       "organisation_id_text": "城关街道",
                                                       "operator_organisation_id": "",
                                                       "operator_organisation_id_text": "康乐运营公司"})
    assert made.status_code == 422 and "有多个名为“城关街道”的机构" in made.get_data(as_text=True)
    made = client.post("/rating/facilities/new", data={**facility, "organisation_id": "",
                                                       "organisation_id_text": str(place["west"].id),
                                                       "operator_organisation_id": "",
                                                       "operator_organisation_id_text": "康乐运营公司"})
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    page = client.get(made.headers["Location"].replace("http://localhost", "") + "/edit").get_data(as_text=True)
    assert 'value="康乐运营公司"' in _combobox(page, "operator_organisation_id")


def test_the_api_searches_the_managed_scope_and_gives_each_hit_the_names_above_it(client, place):
    headers = api_token(client, place["agency_admin"])
    seen = client.get("/api/v1/organisations?q=城关&limit=20", headers=headers).get_json()["items"]
    assert [(o["name"], o["trail"]) for o in seen] == [("城关街道", ["测试二区"])]
    managed = client.get("/api/v1/organisations?q=城关&managed=1", headers=headers).get_json()["items"]
    assert managed == []
    assert client.get("/api/v1/organisations?managed=2", headers=headers).status_code == 422
    roots = client.get("/api/v1/organisations?managed=1", headers=headers).get_json()["items"]
    assert [o["id"] for o in roots] == [place["other"].id] and "trail" not in roots[0]
