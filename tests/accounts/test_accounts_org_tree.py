"""The organisation tree one level at a time (page /admin/organisations and GET
/api/v1/organisations): keyset paging inside a level, the breadcrumb, name search, child counts,
who sees what, the create form's parent, and the detail page's move by id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_token, login
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture()
def tree(db_session: Any, org_tree: dict[str, Any]) -> dict[str, Any]:
    """23 streets under district 1 (one deactivated, two with communities), 2 under district 2."""
    d1, d2 = org_tree["district1"], org_tree["district2"]
    streets = [OrganisationFactory(name=f"s{n:02d}街道", kind="street", parent=d1, is_active=n != 7) for n in range(23)]
    communities = [OrganisationFactory(name=f"c{n}社区", kind="community", parent=streets[n % 2]) for n in range(3)]
    east = [OrganisationFactory(name=f"东{n}街道", kind="street", parent=d2) for n in range(2)]
    admin = UserFactory(organisation=org_tree["city"], roles="admin", username="city_admin")
    db_session.commit()
    return {**org_tree, "streets": streets, "communities": communities, "east": east, "admin": admin}


def _get(client: Any, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/organisations?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _walk(client: Any, headers: dict[str, str], query: str, between: Any = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _round in range(50):
        body = _get(client, headers, query + (f"&cursor={cursor}" if cursor else ""))
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()
    raise AssertionError("paging did not end")


def test_a_level_pages_by_name_and_loses_nothing_while_organisations_are_added(client, db_session, tree):
    headers = api_token(client, tree["admin"])
    d1 = tree["district1"]
    added: list[Any] = []

    def add_two() -> None:  # one sorts before the cursor, one after
        n = len(added)
        added.append(OrganisationFactory(name=f"a{n:02d}街道", kind="street", parent=d1))
        added.append(OrganisationFactory(name=f"z{n:02d}街道", kind="street", parent=d1))
        db_session.commit()

    seen = _walk(client, headers, f"parent={d1.id}&limit=4", add_two)
    ids = [o["id"] for o in seen]
    assert len(ids) == len(set(ids))  # nothing twice
    assert {o.id for o in tree["streets"]} | {o.id for o in added if o.name.startswith("z")} <= set(ids)
    assert all(o["parent_id"] == d1.id for o in seen)
    everything = _get(client, headers, f"parent={d1.id}&limit=500")
    names = [o["name"] for o in everything["items"]]
    assert names == sorted(names) and everything["next_cursor"] is None
    assert len(names) == len(tree["streets"]) + len(added)


def test_roots_children_counts_and_filters(client, tree):
    headers = api_token(client, tree["admin"])
    city, d1, streets = tree["city"], tree["district1"], tree["streets"]
    roots = _get(client, headers, "")
    assert [(o["id"], o["child_count"], o["has_children"]) for o in roots["items"]] == [(city.id, 2, True)]
    districts = {o["id"]: o for o in _get(client, headers, f"parent={city.id}")["items"]}
    assert districts[d1.id]["child_count"] == 23 and districts[tree["district2"].id]["child_count"] == 2
    level = {o["id"]: o for o in _get(client, headers, f"parent={d1.id}&limit=500")["items"]}
    assert level[streets[0].id]["child_count"] == 2 and level[streets[1].id]["child_count"] == 1
    assert level[streets[2].id] | {"child_count": 0, "has_children": False} == level[streets[2].id]
    assert [o["id"] for o in _get(client, headers, f"parent={d1.id}&active=0")["items"]] == [streets[7].id]
    assert len(_get(client, headers, f"parent={d1.id}&active=1&limit=500")["items"]) == 22
    assert _get(client, headers, f"parent={city.id}&kind=street")["items"] == []
    found = _get(client, headers, "q=社区&limit=500")["items"]
    assert {o["id"] for o in found} == {c.id for c in tree["communities"]}
    assert {o["id"] for o in _get(client, headers, "q=街道&kind=street&limit=500")["items"]} == \
        {o.id for o in streets + tree["east"]}
    assert {o["id"] for o in _get(client, headers, f"q=街道&parent={tree['district2'].id}")["items"]} == \
        {o.id for o in tree["east"]}
    assert _get(client, headers, "q=%25")["items"] == [] and _get(client, headers, "q=无关")["items"] == []
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/organisations"]["get"]
    assert {p["name"] for p in documented["parameters"]} >= {"parent", "q", "kind", "active", "cursor", "limit"}
    listed = documented["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert {"child_count", "has_children"} <= set(listed["items"]["items"]["properties"]) and "next_cursor" in listed
    for query, item in (("parent=x", "parent"), (f"parent={tree['other'].id}", "parent"),
                        (f"parent={tree['province'].id}", "parent"), ("kind=planet", "kind"),
                        ("active=2", "active"), ("limit=501", "limit"), ("cursor=%21", "cursor")):
        response = client.get(f"/api/v1/organisations?{query}", headers=headers)
        assert response.status_code == 422 and response.get_json()["errors"][0]["item"] == item, query


def test_a_district_administrator_never_sees_its_siblings(client, tree):
    d1, d2 = tree["district1"], tree["district2"]
    district_admin = UserFactory(organisation=d1, roles="admin")
    headers = api_token(client, district_admin)
    assert [o["id"] for o in _get(client, headers, "")["items"]] == [d1.id]
    assert {o["id"] for o in _get(client, headers, "q=街道&limit=500")["items"]} == {o.id for o in tree["streets"]}
    for parent in (d2.id, tree["city"].id, tree["east"][0].id):
        assert client.get(f"/api/v1/organisations?parent={parent}", headers=headers).status_code == 422
    login(client, district_admin)
    assert client.get(f"/admin/organisations?parent={d2.id}").status_code == 422
    page = client.get(f"/admin/organisations?parent={tree['streets'][0].id}").get_data(as_text=True)
    assert "测试一区" in page and "测试市" not in page  # the breadcrumb starts at the user's own level
    found = client.get("/admin/organisations?q=东").get_data(as_text=True)
    assert "东0街道" not in found and "没有名称包含" in found
    assert client.get(f"/admin/organisations/{d2.id}").status_code == 404


def test_an_agency_sees_its_contracted_area_as_a_root_but_cannot_add_there(client, db_session, tree):
    from accounts.models import OrganisationContract
    from core.timeutil import utcnow

    agency = tree["other"]
    db_session.add(OrganisationContract(agency_id=agency.id, organisation_id=tree["district2"].id,
                                        valid_from=utcnow().date()))
    db_session.commit()
    agency_admin = UserFactory(organisation=agency, roles="admin")
    headers = api_token(client, agency_admin)
    assert {o["id"] for o in _get(client, headers, "")["items"]} == {agency.id, tree["district2"].id}
    assert {o["id"] for o in _get(client, headers, f"parent={tree['district2'].id}")["items"]} == \
        {o.id for o in tree["east"]}
    login(client, agency_admin)
    area = client.get(f"/admin/organisations?parent={tree['district2'].id}").get_data(as_text=True)
    assert "东0街道" in area and "签约区域" in area and "org-parent" not in area and "测试市" not in area
    assert "不在您的管理范围内" in area


def test_the_level_page_breadcrumb_counts_paging_and_search(client, tree):
    city, d1, streets = tree["city"], tree["district1"], tree["streets"]
    login(client, tree["admin"])
    page = client.get(f"/admin/organisations?parent={streets[0].id}").get_data(as_text=True)
    crumbs = page.split('class="breadcrumb"')[1].split("</nav>")[0]
    assert f'parent={city.id}"' in crumbs and f'parent={d1.id}"' in crumbs and "测试省" not in crumbs
    assert '<span aria-current="page">s00街道</span>' in crumbs
    assert "c0社区" in page and "c2社区" in page and "c1社区" not in page
    names, url = [], f"/admin/organisations?parent={d1.id}&limit=10"
    while url:
        html = client.get(url).get_data(as_text=True)
        names += [row.split(">", 1)[1].split("<")[0] for row in html.split('<td><a href="/admin/organisations?parent=')[1:]]
        url = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&") if 'rel="next"' in html else ""
    assert names == [o.name for o in streets]  # s00…s22 in order, each once
    assert "共 23 条" in client.get(f"/admin/organisations?parent={d1.id}").get_data(as_text=True)
    counts = client.get(f"/admin/organisations?parent={d1.id}&limit=2").get_data(as_text=True)
    assert "<td>2</td>" in counts and "<td>1</td>" in counts  # s00 has two communities, s01 one
    found = client.get("/admin/organisations?q=c1").get_data(as_text=True)
    assert "c1社区" in found and "测试市 / 测试一区 / s01街道" in found and "org-parent" not in found
    empty = client.get(f"/admin/organisations?parent={streets[5].id}").get_data(as_text=True)
    assert "还没有下级机构" in empty and "新建机构" in empty
    assert client.get("/admin/organisations?limit=0").status_code == 422


def test_the_create_form_adds_under_the_level_and_offers_no_more_than_the_page(client, tree):
    d1, streets = tree["district1"], tree["streets"]
    login(client, tree["admin"])
    page = client.get(f"/admin/organisations?parent={d1.id}&limit=5").get_data(as_text=True)
    form = page.split('id="org-parent"')[1].split("</select>")[0]
    assert f'<option value="{d1.id}" selected>' in form
    assert form.count("<option") == 6 and f'value="{streets[5].id}"' not in form  # the node and this page
    made = client.post(f"/admin/organisations?parent={d1.id}", data={"name": "新街道", "kind": "street",
                                                                       "parent_id": str(d1.id)})
    assert made.status_code == 302 and made.headers["Location"].endswith(f"?parent={d1.id}")
    inactive = client.get(f"/admin/organisations?parent={d1.id}&active=0").get_data(as_text=True)
    assert f'value="{streets[7].id}"' not in inactive.split('id="org-parent"')[1].split("</select>")[0]
    refused = client.post(f"/admin/organisations?parent={d1.id}",
                          data={"name": "越界", "kind": "street", "parent_id": str(tree["other"].id)})
    assert refused.status_code == 422 and "请选择您管理范围内的上级机构" in refused.get_data(as_text=True)
    assert "s00街道" in refused.get_data(as_text=True)  # the level is still shown


def test_moving_by_id_is_validated_and_offers_nearby_candidates(client, tree):
    d1, d2, street = tree["district1"], tree["district2"], tree["streets"][0]
    login(client, tree["admin"])
    page = client.get(f"/admin/organisations/{street.id}").get_data(as_text=True)
    listed = page.split("<datalist")[1].split("</datalist>")[0]
    assert f'value="{d1.id}"' in listed and f'value="{d2.id}"' in listed and f'value="{tree["city"].id}"' in listed
    assert f'value="{tree["streets"][1].id}"' not in listed and "测试省" not in listed  # no whole tree
    found = client.get(f"/admin/organisations/{street.id}?find=s1").get_data(as_text=True)
    assert f'value="{tree["streets"][10].id}"' in found.split("<datalist")[1].split("</datalist>")[0]
    version = str(street.version)

    def move(parent: str) -> Any:
        return client.post(f"/admin/organisations/{street.id}", data={
            "action": "save", "name": street.name, "kind": "street", "parent_id": parent, "version": version})

    for bad in (str(tree["communities"][0].id), str(street.id), str(tree["other"].id), "abc", "",
                str(tree["province"].id), str(tree["streets"][7].id)):
        refused = move(bad)
        assert refused.status_code == 422, bad
    moved = move(f" {d2.id} ")
    assert moved.status_code == 302
    from accounts.models import Organisation
    from tests.factories import current_session

    session = current_session()
    session.expire_all()
    assert session.get(Organisation, tree["communities"][0].id).path.startswith(d2.path)
