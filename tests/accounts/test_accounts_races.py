"""Two administrators at once, with real threads on SQLite and PostgreSQL: the same organisation
or user edited from one version (one wins, the other gets 409), two organisations moved under
each other (never a cycle), an organisation deactivated while a user is added to it (never both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from accounts.models import Organisation, User
from tests.factories import OrganisationFactory, UserFactory
from tests.race import (
    PASSWORD,
    race_app,
    race_database,
    seeded,
    signed_in_api,
    slow_commits,
    together,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with race_database(request.param, tmp_path_factory.mktemp("accounts-race")) as url:
        app = race_app(url)
        with seeded(app):
            city = OrganisationFactory(name="竞争市", kind="city")
            admins = [UserFactory(organisation=city, roles="admin") for _ in range(2)]
        yield {"app": app, "city": city, "admins": admins}
        app.extensions["yiyang.engine"].dispose()


def _clients(world: dict[str, Any]) -> list[tuple[Any, dict[str, str]]]:
    return [signed_in_api(world["app"], admin) for admin in world["admins"]]


def _org(client: Any, headers: dict[str, str], name: str, parent_id: int) -> dict[str, Any]:
    made = client.post("/api/v1/organisations", headers=headers,
                       json={"name": name, "kind": "street", "parent_id": parent_id})
    assert made.status_code == 201, made.get_json()
    return made.get_json()  # type: ignore[no-any-return]


def test_two_renames_of_one_version(world, monkeypatch):
    (one, h1), (two, h2) = _clients(world)
    org = _org(one, h1, "改名街道", world["city"].id)
    url = f"/api/v1/organisations/{org['id']}"
    with slow_commits(monkeypatch):
        answers = together(lambda: one.patch(url, headers=h1, json={"name": "甲街道", "version": org["version"]}),
                           lambda: two.patch(url, headers=h2, json={"name": "乙街道", "version": org["version"]}))
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).get_json()["name"]
    with Session(world["app"].extensions["yiyang.engine"]) as db:
        assert db.get(Organisation, org["id"]).name == winner


def test_two_moves_under_each_other_never_make_a_cycle(world, monkeypatch):
    (one, h1), (two, h2) = _clients(world)
    a = _org(one, h1, "甲移动", world["city"].id)
    b = _org(one, h1, "乙移动", world["city"].id)
    with slow_commits(monkeypatch):
        answers = together(
            lambda: one.patch(f"/api/v1/organisations/{a['id']}", headers=h1, json={"parent_id": b["id"]}),
            lambda: two.patch(f"/api/v1/organisations/{b['id']}", headers=h2, json={"parent_id": a["id"]}))
    assert sorted(r.status_code for r in answers) == [200, 422], [r.get_json() for r in answers]
    with Session(world["app"].extensions["yiyang.engine"]) as db:
        rows = {o.id: o for o in db.exec(select(Organisation).where(Organisation.id.in_([a["id"], b["id"]])))}
        for org in rows.values():
            parent = db.get(Organisation, org.parent_id)
            assert org.path == f"{parent.path}{org.id}/"  # every path follows its parent


def test_two_edits_of_one_user_version(world, monkeypatch):
    (one, h1), (two, h2) = _clients(world)
    made = one.post("/api/v1/users", headers=h1, json={"username": "race_user", "organisation_id": world["city"].id,
                                                        "roles": ["assessor"], "password": PASSWORD})
    assert made.status_code == 201, made.get_json()
    user = made.get_json()
    url = f"/api/v1/users/{user['id']}"
    with slow_commits(monkeypatch):
        answers = together(
            lambda: one.patch(url, headers=h1, json={"roles": ["reviewer"], "version": user["version"]}),
            lambda: two.patch(url, headers=h2, json={"is_active": False, "version": user["version"]}))
    assert sorted(a.status_code for a in answers) == [200, 409]
    with Session(world["app"].extensions["yiyang.engine"]) as db:
        stored = db.get(User, user["id"])
        assert stored.version == user["version"] + 1
        assert (stored.roles, stored.is_active) in {("reviewer", True), ("assessor", False)}


def test_deactivating_while_a_user_is_added_never_both_win(world, monkeypatch):
    (one, h1), (two, h2) = _clients(world)
    street = _org(one, h1, "停用竞争街道", world["city"].id)
    with slow_commits(monkeypatch):
        answers = together(
            lambda: one.patch(f"/api/v1/organisations/{street['id']}", headers=h1, json={"is_active": False}),
            lambda: two.post("/api/v1/users", headers=h2, json={
                "username": "race_joiner", "organisation_id": street["id"], "roles": ["assessor"],
                "password": PASSWORD}))
    statuses = [a.status_code for a in answers]
    assert statuses in ([200, 422], [422, 201]), [a.get_json() for a in answers]
    with Session(world["app"].extensions["yiyang.engine"]) as db:
        org = db.get(Organisation, street["id"])
        active_users = db.exec(select(func.count()).select_from(User).where(
            User.organisation_id == street["id"], User.is_active)).one()
        assert not (not org.is_active and active_users)
