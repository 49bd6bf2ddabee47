"""One set of checks for a new user (accounts.checks): the page, the API, the CLI and the bulk
import refuse the same input with the same messages, every problem at once, in the request's
language; `yiyang users activate|deactivate` share one implementation."""

from __future__ import annotations

import io

from sqlmodel import select

from accounts.models import User
from tests.conftest import api_token, login
from tests.factories import UserFactory
from tests.imports.conftest import to_csv

HEADER = ["用户名", "姓名", "所属机构", "角色", "初始密码"]
BAD = {"username": "li min", "roles": ["cook"], "password": "123"}


def _import(client, headers, rows):
    body = {"file": (io.BytesIO(to_csv(rows, header=HEADER)), "users.csv")}
    return client.post("/api/v1/imports/users", data=body, headers=headers, content_type="multipart/form-data")


def test_create_and_import_refuse_the_same_input_with_the_same_english_messages(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    headers = {**api_token(client, admin), "Accept-Language": "en"}
    created = client.post("/api/v1/users", headers=headers, json={**BAD, "organisation_id": org_tree["city"].id})
    assert created.status_code == 422
    by_api = {(e["item"], e["message"]) for e in created.get_json()["errors"]}
    assert {item for item, _m in by_api} == {"username", "roles", "password"}
    imported = _import(client, headers, [["li min", "", "", "cook", "123"]]).get_json()
    by_import = {(e["column"], e["message"]) for e in imported["errors"]}
    assert {m for _c, m in by_import} == {m for _i, m in by_api}  # the same sentences, word for word
    assert all(m.isascii() for _c, m in by_import), by_import


def test_usernames_are_unique_whatever_their_case_on_every_path(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin", username="wang_fang")
    headers = api_token(client, admin)
    twin = client.post("/api/v1/users", headers=headers, json={
        "username": "Wang_Fang", "roles": ["assessor"], "password": "Quite-Long-Pass-81",
        "organisation_id": org_tree["city"].id})
    assert twin.status_code == 422 and twin.get_json()["errors"] == [{"item": "username", "message": "用户名已被使用。"}]
    login(client, admin)
    page = client.post("/admin/users/new", data={"username": "WANG_FANG", "password": "Quite-Long-Pass-81",
                                                  "organisation_id": org_tree["city"].id, "roles": ["assessor"]})
    assert page.status_code == 422 and "用户名已被使用" in page.get_data(as_text=True)
    assert db_session.exec(select(User).where(User.username.in_(["Wang_Fang", "WANG_FANG"]))).first() is None


def test_a_user_needs_a_role_on_the_page_as_in_the_import(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    page = client.post("/admin/users/new", data={"username": "no_roles", "password": "Quite-Long-Pass-81",
                                                  "organisation_id": org_tree["city"].id})
    assert page.status_code == 422 and "至少需要一个角色" in page.get_data(as_text=True)
    assert db_session.exec(select(User).where(User.username == "no_roles")).first() is None


def test_import_into_a_deactivated_own_organisation_is_refused(client, org_tree, db_session):
    admin = UserFactory(organisation=org_tree["district2"], roles="admin")
    headers = api_token(client, admin)
    org_tree["district2"].is_active = False  # the row's own organisation, used when the row names none
    db_session.flush()
    body = _import(client, headers, [["new_one", "", "", "评估员", ""]]).get_json()
    assert body["valid"] == 0 and {e["column"] for e in body["errors"]} == {"所属机构"}


def test_activate_and_deactivate_are_one_command_body(tmp_path, monkeypatch):
    from app import create_app
    from core.db import get_engine, session_scope

    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'users.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "某市民政局", "--kind", "bureau"]).exit_code == 0
    for name in ("cli_one", "cli_two"):
        made = runner.invoke(args=["users", "create", name, "--org", "某市民政局", "--role", "assessor"],
                             input="Quite-Long-Pass-81\nQuite-Long-Pass-81\n")
        assert made.exit_code == 0, made.output
    spaced = runner.invoke(args=["users", "create", "li min", "--org", "某市民政局", "--role", "assessor"],
                           input="Quite-Long-Pass-81\nQuite-Long-Pass-81\n")
    assert spaced.exit_code == 2 and "用户名不能包含空格" in spaced.output
    unknown = runner.invoke(args=["users", "deactivate", "cli_one", "nobody"])
    assert unknown.exit_code == 2 and "nobody" in unknown.output
    off = runner.invoke(args=["users", "deactivate", "cli_one", "cli_two"])
    assert off.exit_code == 0, off.output
    assert "已停用 cli_one" in off.output and "已停用 cli_two" in off.output
    again = runner.invoke(args=["users", "deactivate", "cli_two"])
    assert again.exit_code == 0 and "already inactive" in again.output
    on = runner.invoke(args=["users", "activate", "cli_one"])
    assert on.exit_code == 0 and "已启用 cli_one" in on.output
    with app.app_context(), session_scope(get_engine()) as session:
        active = dict(session.exec(select(User.username, User.is_active)).all())
    assert active == {"cli_one": True, "cli_two": False}
    app.extensions["yiyang.engine"].dispose()


def test_a_user_goes_only_into_an_organisation_the_administrator_manages_on_every_path(
        app, client, org_tree, db_session):
    """An agency sees the areas it holds a contract for, but staffs only its own subtree
    (accounts.queries.managed_org_ids): the page, the API, the import and the operation agree."""
    from datetime import timedelta

    from accounts import operations as ops
    from accounts.models import OrganisationContract
    from core.timeutil import utcnow

    agency, area = org_tree["other"], org_tree["district2"]
    db_session.add(OrganisationContract(agency_id=agency.id, organisation_id=area.id,
                                        valid_from=utcnow().date() - timedelta(days=1)))
    db_session.flush()
    admin = UserFactory(organisation=agency, roles="admin", username="agency_admin")
    headers = api_token(client, admin)
    seen = {o["id"] for o in client.get("/api/v1/organisations", headers=headers).get_json()["items"]}
    assert area.id in seen  # the contract makes the area visible (one of the roots)...
    user = {"password": "Quite-Long-Pass-81", "roles": ["assessor"]}

    api = client.post("/api/v1/users", headers=headers, json={**user, "username": "by_api", "organisation_id": area.id})
    assert api.status_code == 422 and api.get_json()["errors"][0]["item"] == "organisation_id"

    imported = _import(client, headers, [["by_import", "", area.name, "评估员", "Quite-Long-Pass-81"]]).get_json()
    assert [e["column"] for e in imported["errors"]] == ["所属机构"], imported

    login(client, admin)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert f'value="{area.id}"' not in form and f'value="{agency.id}"' in form  # ...not a place for users
    page = client.post("/admin/users/new", data={**user, "username": "by_page", "organisation_id": area.id})
    assert page.status_code == 422

    with app.test_request_context():
        try:
            ops.create_user(session=db_session, username="by_ops", organisation=area, actor=admin, **user)
        except ops.AccountError as error:
            assert [e["item"] for e in error.errors] == ["organisation"] and area.name in error.problems[0]
        else:
            raise AssertionError("an organisation outside the administrator's subtree was accepted")
    made = {u.username for u in db_session.exec(select(User).where(User.username.startswith("by_")))}
    assert made == set()
    own = client.post("/admin/users/new", data={**user, "username": "by_page", "organisation_id": agency.id})
    assert own.status_code == 302  # the agency's own subtree stays open


def test_text_limits_are_the_user_models_column_lengths(app, monkeypatch):
    from accounts.checks import user_input_problems

    def limit(name, value):
        column_type = User.__table__.c[name].type
        monkeypatch.setattr(getattr(column_type, "impl", column_type), "length", value)

    limit("display_name", 50)
    limit("username", 30)
    with app.test_request_context("/?lang=en"):
        problems = dict(user_input_problems(username="u" * 31, roles=["assessor"], organisation=None,
                                            display_name="李" * 51, email="a@" + "b" * 190 + ".org"))
    assert problems.keys() == {"username", "display_name"}, problems  # the e-mail is within its 200
    assert problems["username"].startswith("Username:") and "30" in problems["username"]
    assert problems["display_name"].startswith("Name:") and "50" in problems["display_name"]
