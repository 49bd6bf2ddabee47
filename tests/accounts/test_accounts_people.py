"""Users and organisations as the bureau's administrator manages them: deactivating a user (page,
API, CLI) ends their sessions and tokens; a deactivated organisation takes no new users or
records; a third-party agency with a contract over a district sees and assesses only there,
through the pages and the API."""

from __future__ import annotations

from typing import Any

from tests.conftest import TEST_PASSWORD, api_token, login
from tests.factories import UserFactory, make_id_number

GBT = "gbt42195-2022"


def _elder(serial: int, **extra: Any) -> dict[str, Any]:
    return {"name": "王秀英", "gender": "female", "birth_date": "1941-03-03",
            "id_number": make_id_number("1941-03-03", serial), "address": "和平街 1 号", **extra}


def test_api_edits_and_deactivates_a_user_whose_tokens_stop_working(client, org_tree):
    admin = api_token(client, UserFactory(organisation=org_tree["city"], roles="admin"))
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    token = api_token(client, user)
    shown = client.get(f"/api/v1/users/{user.id}", headers=admin).get_json()
    moved = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={
        "roles": ["assessor", "reviewer"], "display_name": "张敏", "organisation_id": org_tree["district2"].id,
        "version": shown["version"]})
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["roles"] == ["assessor", "reviewer"] and body["organisation_id"] == org_tree["district2"].id
    stale = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"roles": ["assessor"],
                                                                       "version": shown["version"]})
    assert stale.status_code == 409
    bad = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"roles": "admin", "is_active": "no"})
    assert bad.status_code == 422 and {e["item"] for e in bad.get_json()["errors"]} == {"roles", "is_active"}
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    off = client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"is_active": False})
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": user.username,
                                                   "password": TEST_PASSWORD}).status_code == 401
    outsider = UserFactory(organisation=org_tree["other"], roles="assessor")
    assert client.patch(f"/api/v1/users/{outsider.id}", headers=admin, json={"is_active": False}).status_code == 404


def test_an_administrator_cannot_lock_themselves_out(client, org_tree):
    me = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = api_token(client, me)
    refused = client.patch(f"/api/v1/users/{me.id}", headers=headers, json={"is_active": False, "roles": ["assessor"]})
    assert refused.status_code == 422
    messages = " ".join(e["message"] for e in refused.get_json()["errors"])
    assert "不能停用自己的账号" in messages and "不能取消自己的管理员角色" in messages


def test_the_user_page_deactivates_and_keeps_input_on_a_conflict(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    user = UserFactory(organisation=org_tree["district1"], roles="assessor")
    other = client.application.test_client()
    login(other, user)
    assert other.get("/").status_code == 200
    login(client, admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page or 'value="1"' in page
    form = {"display_name": "改名甲", "organisation_id": str(org_tree["district1"].id), "roles": ["assessor"],
            "version": "1"}
    assert client.post(f"/admin/users/{user.id}", data=form).status_code == 302  # is_active unticked: deactivated
    assert other.get("/").status_code == 302  # their session ended
    late = client.post(f"/admin/users/{user.id}", data={**form, "display_name": "改名乙", "is_active": "y"})
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "刚被其他管理员修改过" in html and 'value="改名乙"' in html


def test_a_deactivated_organisation_takes_no_new_users_elders_or_facilities(client, org_tree):
    admin_user = UserFactory(organisation=org_tree["city"], roles="admin inspector assessor")
    admin = api_token(client, admin_user)
    street = client.post("/api/v1/organisations", headers=admin,
                         json={"name": "将停用街道", "kind": "street", "parent_id": org_tree["district1"].id}).get_json()
    assert client.patch(f"/api/v1/organisations/{street['id']}", headers=admin,
                        json={"is_active": False}).status_code == 200
    user = client.post("/api/v1/users", headers=admin, json={
        "username": "late_joiner", "organisation_id": street["id"], "roles": ["assessor"], "password": TEST_PASSWORD})
    assert user.status_code == 422 and "已停用" in user.get_json()["message"]
    elder = client.post("/api/v1/elders", headers=admin, json=_elder(501, organisation_id=street["id"]))
    assert elder.status_code == 422
    assert any("已停用" in e["message"] for e in elder.get_json()["errors"])
    facility = client.post("/api/v1/facilities", headers=admin, json={
        "name": "停用区养老院", "kind": "institution", "organisation_id": street["id"]})
    assert facility.status_code == 422
    assert any("已停用" in e["message"] for e in facility.get_json()["errors"])


def test_an_agency_under_contract_sees_and_assesses_only_there(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = api_token(client, admin)
    district1_assessor = api_token(client, UserFactory(organisation=org_tree["district1"], roles="assessor"))
    district2_assessor = api_token(client, UserFactory(organisation=org_tree["district2"], roles="assessor"))
    inside = client.post("/api/v1/elders", headers=district2_assessor, json=_elder(601)).get_json()
    outside = client.post("/api/v1/elders", headers=district1_assessor, json=_elder(602)).get_json()

    login(client, admin)
    made = client.post("/admin/organisations", data={"name": "康乐评估公司", "kind": "agency",
                                                     "parent_id": str(org_tree["city"].id)})
    assert made.status_code == 302
    agency = client.get(f"/api/v1/organisations?parent={org_tree['city'].id}&q=康乐",
                        headers=headers).get_json()["items"][0]
    assert agency["name"] == "康乐评估公司"
    contract = client.post(f"/admin/organisations/{agency['id']}",
                           data={"action": "contract", "area_id": str(org_tree["district2"].id), "valid_until": ""})
    assert contract.status_code == 302
    worker = api_token(client, _user(client, headers, agency["id"]))

    listed = {e["id"] for e in client.get("/api/v1/elders", headers=worker).get_json()["items"]}
    assert inside["id"] in listed and outside["id"] not in listed
    assert client.get(f"/api/v1/elders/{outside['id']}", headers=worker).status_code == 404
    started = client.post("/api/v1/assessments", headers=worker, json={"elder_id": inside["id"], "instrument": GBT})
    assert started.status_code == 201, started.get_json()
    refused = client.post("/api/v1/assessments", headers=worker, json={"elder_id": outside["id"], "instrument": GBT})
    assert refused.status_code in (404, 422)
    client.post("/logout")
    login(client, _stored_user("kangle_worker"))
    page = client.get("/elders").get_data(as_text=True)
    assert inside["name"] in page
    assert client.get(f"/elders/{outside['id']}").status_code == 404
    assert client.get(f"/elders/{inside['id']}").status_code == 200

    contracts = client.get(f"/api/v1/organisations/{agency['id']}/contracts", headers=headers).get_json()["items"]
    ended = client.delete(f"/api/v1/organisations/{agency['id']}/contracts/{contracts[0]['id']}", headers=headers)
    assert ended.status_code == 200
    assert client.get(f"/elders/{inside['id']}").status_code == 404
    assert client.get(f"/api/v1/elders/{inside['id']}", headers=worker).status_code == 404


def _user(client: Any, headers: dict[str, str], organisation_id: int) -> Any:
    made = client.post("/api/v1/users", headers=headers, json={
        "username": "kangle_worker", "organisation_id": organisation_id, "roles": ["assessor"],
        "password": TEST_PASSWORD})
    assert made.status_code == 201, made.get_json()
    return _stored_user("kangle_worker")


def _stored_user(username: str) -> Any:
    from sqlmodel import select

    from accounts.models import User
    from tests.factories import current_session

    return current_session().exec(select(User).where(User.username == username)).one()


def test_cli_renames_moves_and_deactivates(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'orgs.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    for args in (["某市民政局", "--kind", "bureau"], ["东区", "--kind", "district", "--parent", "某市民政局"],
                 ["西区", "--kind", "district", "--parent", "某市民政局"],
                 ["东街道", "--kind", "street", "--parent", "东区"]):
        assert runner.invoke(args=["orgs", "create", *args]).exit_code == 0
    renamed = runner.invoke(args=["orgs", "update", "东街道", "--name", "东门街道"])
    assert renamed.exit_code == 0 and "东门街道" in renamed.output
    moved = runner.invoke(args=["orgs", "update", "东门街道", "--parent", "西区"])
    assert moved.exit_code == 0, moved.output
    cycle = runner.invoke(args=["orgs", "update", "某市民政局", "--parent", "东门街道"])
    assert cycle.exit_code == 2 and "下级" in cycle.output
    busy = runner.invoke(args=["orgs", "update", "西区", "--deactivate"])
    assert busy.exit_code == 2 and "下级机构" in busy.output
    assert runner.invoke(args=["orgs", "update", "东门街道", "--deactivate"]).exit_code == 0
    listing = runner.invoke(args=["orgs", "list"]).output
    west = listing.index("西区")
    assert listing.index("东门街道") > west and "停用" in listing
    app.extensions["yiyang.engine"].dispose()
