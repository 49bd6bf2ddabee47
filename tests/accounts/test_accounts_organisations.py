"""The bureau builds its own tree: organisations through the API (create, rename, move,
deactivate), third-party agencies with a contract over a district, and users."""

from __future__ import annotations

from typing import Any

from tests.conftest import TEST_PASSWORD, api_token
from tests.factories import UserFactory


def _create(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/organisations", headers=headers, json=body)


def test_a_bureau_builds_its_tree_and_an_agency_works_only_under_contract(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = api_token(client, admin)
    district = _create(client, headers, name="新区", kind="district", parent_id=org_tree["city"].id)
    assert district.status_code == 201, district.get_json()
    new_district = district.get_json()
    street = _create(client, headers, name="新区一街道", kind="street", parent_id=new_district["id"]).get_json()
    community = _create(client, headers, name="幸福社区", kind="community", parent_id=street["id"]).get_json()
    agency = _create(client, headers, name="康乐评估公司", kind="agency", parent_id=org_tree["city"].id).get_json()
    assert agency["kind_label"] == "第三方评估机构"

    roots = client.get("/api/v1/organisations", headers=headers).get_json()["items"]
    assert [root["id"] for root in roots] == [org_tree["city"].id] and roots[0]["child_count"] == 4
    children = client.get(f"/api/v1/organisations?parent={org_tree['city'].id}", headers=headers).get_json()["items"]
    assert {child["name"] for child in children} == {"新区", "康乐评估公司", "测试一区", "测试二区"}

    user = client.post("/api/v1/users", headers=headers, json={
        "username": "kangle1", "organisation_id": agency["id"], "roles": ["assessor"], "password": TEST_PASSWORD})
    assert user.status_code == 201, user.get_json()
    kangle = api_token(client, _user("kangle1"))
    seen = lambda: {o["id"] for o in walk_tree(client, kangle)}  # noqa: E731
    assert seen() == {agency["id"]}
    contract = client.post(f"/api/v1/organisations/{agency['id']}/contracts", headers=headers,
                           json={"organisation_id": new_district["id"]})
    assert contract.status_code == 201, contract.get_json()
    assert seen() == {agency["id"], new_district["id"], street["id"], community["id"]}
    ended = client.delete(f"/api/v1/organisations/{agency['id']}/contracts/{contract.get_json()['id']}", headers=headers)
    assert ended.status_code == 200 and ended.get_json()["ended"]
    assert seen() == {agency["id"]}


def _user(username: str) -> Any:
    from sqlmodel import select

    from accounts.models import User
    from tests.factories import current_session

    return current_session().exec(select(User).where(User.username == username)).one()


def walk_tree(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every organisation the API shows, opening each level that has children."""
    out: list[dict[str, Any]] = []
    levels = ["/api/v1/organisations?limit=500"]
    while levels:
        body = client.get(levels.pop(), headers=headers).get_json()
        assert body["next_cursor"] is None
        out += body["items"]
        levels += [f"/api/v1/organisations?limit=500&parent={o['id']}" for o in body["items"] if o["has_children"]]
    return out


def test_rename_move_and_deactivate_keep_the_subtree_and_refuse_what_would_break_it(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = api_token(client, admin)
    d1 = org_tree["district1"]
    street = _create(client, headers, name="东街道", kind="street", parent_id=d1.id).get_json()
    community = _create(client, headers, name="东社区", kind="community", parent_id=street["id"]).get_json()
    renamed = client.patch(f"/api/v1/organisations/{street['id']}", headers=headers,
                           json={"name": "东门街道", "version": street["version"]})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "东门街道"
    stale = client.patch(f"/api/v1/organisations/{street['id']}", headers=headers,
                         json={"name": "旧名", "version": street["version"]})
    assert stale.status_code == 409
    loop = client.patch(f"/api/v1/organisations/{street['id']}", headers=headers, json={"parent_id": community["id"]})
    assert loop.status_code == 422 and loop.get_json()["errors"][0]["item"] == "parent_id"
    moved = client.patch(f"/api/v1/organisations/{street['id']}", headers=headers,
                         json={"parent_id": org_tree["district2"].id})
    assert moved.status_code == 200
    from accounts.models import Organisation
    from tests.factories import current_session

    session = current_session()
    session.expire_all()
    assert session.get(Organisation, community["id"]).path.startswith(org_tree["district2"].path)
    busy = client.patch(f"/api/v1/organisations/{street['id']}", headers=headers, json={"is_active": False})
    assert busy.status_code == 422  # its community is still active
    assert client.patch(f"/api/v1/organisations/{community['id']}", headers=headers,
                        json={"is_active": False}).status_code == 200
    assert client.patch(f"/api/v1/organisations/{street['id']}", headers=headers,
                        json={"is_active": False}).status_code == 200
    refused = _create(client, headers, name="停用后新建", kind="community", parent_id=street["id"])
    assert refused.status_code == 422


def test_bad_input_names_the_field_and_other_trees_are_out_of_reach(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = api_token(client, admin)
    bad = _create(client, headers, name="  ", kind="planet", parent_id=org_tree["city"].id)
    assert bad.status_code == 422
    assert {e["item"] for e in bad.get_json()["errors"]} >= {"kind"} or bad.get_json()["errors"]
    outside = _create(client, headers, name="越界", kind="district", parent_id=org_tree["other"].id)
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["item"] == "parent_id"
    assert client.patch(f"/api/v1/organisations/{org_tree['other'].id}", headers=headers,
                        json={"name": "x"}).status_code == 404
    root = _create(client, headers, name="无上级", kind="bureau")
    assert root.status_code == 422
    duplicate = _create(client, headers, name="测试一区", kind="district", parent_id=org_tree["city"].id)
    assert duplicate.status_code == 422
    assessor = UserFactory(organisation=org_tree["city"], roles="assessor")
    assert _create(client, api_token(client, assessor), name="x", kind="district",
                   parent_id=org_tree["city"].id).status_code == 403
    weak = client.post("/api/v1/users", headers=headers, json={
        "username": "weak", "organisation_id": org_tree["city"].id, "roles": ["assessor"], "password": "123"})
    assert weak.status_code == 422


def test_the_pages_create_edit_and_contract(client, org_tree):
    from tests.conftest import login

    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "测试市" in page and "测试一区" not in page  # one level at a time: the city, then its districts
    page = client.get(f"/admin/organisations?parent={org_tree['city'].id}")
    assert page.status_code == 200 and "测试一区" in page.get_data(as_text=True)
    made = client.post("/admin/organisations", data={"name": "北街道", "kind": "street",
                                                     "parent_id": str(org_tree["district1"].id)})
    assert made.status_code == 302
    kept = client.post("/admin/organisations", data={"name": "北街道", "kind": "street",
                                                     "parent_id": str(org_tree["district1"].id)})
    assert kept.status_code == 422 and "同一上级下已有同名机构" in kept.get_data(as_text=True)
    assert 'value="北街道"' in kept.get_data(as_text=True)
    agency = client.post("/admin/organisations", data={"name": "页面评估公司", "kind": "agency",
                                                       "parent_id": str(org_tree["city"].id)})
    assert agency.status_code == 302
    from sqlmodel import select

    from accounts.models import Organisation
    from tests.factories import current_session

    agency_org = current_session().exec(select(Organisation).where(Organisation.name == "页面评估公司")).one()
    contract = client.post(f"/admin/organisations/{agency_org.id}",
                           data={"action": "contract", "area_id": str(org_tree["district2"].id), "valid_until": ""})
    assert contract.status_code == 302
    shown = client.get(f"/admin/organisations/{agency_org.id}").get_data(as_text=True)
    assert "测试二区" in shown and "结束签约" in shown
    renamed = client.post(f"/admin/organisations/{agency_org.id}",
                          data={"action": "save", "name": "页面评估有限公司", "kind": "agency",
                                "parent_id": str(org_tree["city"].id), "version": str(agency_org.version)})
    assert renamed.status_code == 302
    assert client.get(f"/admin/organisations/{org_tree['other'].id}").status_code == 404
    bad_date = client.post(f"/admin/organisations/{agency_org.id}",
                           data={"action": "contract", "area_id": str(org_tree["district1"].id),
                                 "valid_until": "明年"})
    assert bad_date.status_code == 422
