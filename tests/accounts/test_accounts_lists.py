"""The users list (page and API): keyset-paged with filters, nothing lost or repeated while users
are added; a level of the organisation tree costs the same statements for 3 organisations or 43."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_token, login
from tests.factories import OrganisationFactory, UserFactory
from tests.statements import statements_per_page


@pytest.fixture()
def staff(db_session: Any, org_tree: dict[str, Any]) -> dict[str, Any]:
    admin = UserFactory(organisation=org_tree["city"], roles="admin", username="a_admin", display_name="市管理员")
    people = [UserFactory(organisation=org_tree["district1" if n % 2 else "district2"],
                          roles="assessor" if n % 3 else "inspector reviewer", username=f"u{n:02d}",
                          display_name=f"职员{n:02d}", is_active=n % 4 != 0) for n in range(14)]
    outsider = UserFactory(organisation=org_tree["other"], roles="admin", username="b_out")
    db_session.commit()
    return {**org_tree, "admin": admin, "people": people, "outsider": outsider}


def _walk(client: Any, headers: dict[str, str], url: str, between: Any = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _round in range(50):
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()
    raise AssertionError("paging did not end")


def test_users_api_pages_by_username_and_loses_nothing_while_users_are_added(client, db_session, staff):
    headers = api_token(client, staff["admin"])
    added: list[Any] = []

    def add_two() -> None:  # one sorts before the cursor, one after
        n = len(added)
        added.append(UserFactory(organisation=staff["district1"], username=f"a{n:02d}_new"))
        added.append(UserFactory(organisation=staff["district2"], username=f"z{n:02d}_new"))
        db_session.commit()

    seen = _walk(client, headers, "/api/v1/users?limit=4", add_two)
    ids = [u["id"] for u in seen]
    assert len(ids) == len(set(ids))
    assert {u.id for u in staff["people"]} | {staff["admin"].id} <= set(ids)
    assert staff["outsider"].id not in ids
    assert {u.id for u in added if u.username.startswith("z")} <= set(ids)  # those after the cursor
    everything = client.get("/api/v1/users?limit=500", headers=headers).get_json()
    names = [u["username"] for u in everything["items"]]
    assert names == sorted(names) and everything["next_cursor"] is None
    assert len(names) == 1 + len(staff["people"]) + len(added)


def test_users_filters_on_api_and_page(client, db_session, staff):
    headers = api_token(client, staff["admin"])
    people = staff["people"]

    def usernames(query: str) -> list[str]:
        response = client.get(f"/api/v1/users?limit=500&{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [u["username"] for u in response.get_json()["items"]]

    assert usernames(f"org={staff['district1'].id}") == [u.username for u in people if u.organisation_id ==
                                                         staff["district1"].id]
    assert usernames("role=reviewer") == [u.username for u in people if "reviewer" in u.roles]
    assert usernames("role=admin") == ["a_admin"]  # not "admin" inside another word
    assert usernames("active=0") == [u.username for u in people if not u.is_active]
    assert usernames("q=职员1") == [f"u{n}" for n in range(10, 14)]
    assert usernames("q=U0&role=assessor&active=1") == [u.username for u in people[:10]
                                                        if "assessor" in u.roles and u.is_active]
    assert usernames("q=%25") == []  # % is literal
    for query, item in (("role=boss", "role"), ("active=2", "active"), ("limit=0", "limit"),
                        (f"org={staff['other'].id}", "org"), ("cursor=%21", "cursor")):
        response = client.get(f"/api/v1/users?{query}", headers=headers)
        assert response.status_code == 422 and response.get_json()["errors"][0]["item"] == item, query
    login(client, staff["admin"])
    first = client.get("/admin/users?limit=5&role=assessor").get_data(as_text=True)
    assessors = sorted(u.username for u in people if "assessor" in u.roles)
    assert f"共 {len(assessors)} 条" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert all(f"<td>{name}</td>" in first for name in assessors[:5]) and f"<td>{assessors[5]}</td>" not in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert f"<td>{assessors[5]}</td>" in second and "role=assessor" in next_url and 'rel="prev"' in second
    assert client.get("/admin/users?active=x").status_code == 422


def test_user_and_organisation_lists_cost_the_same_statements_for_any_size(client, db_session, staff):
    headers = api_token(client, staff["admin"])
    client.get("/api/v1/users?limit=1", headers=headers)  # the token's first use is written once
    small = statements_per_page(client, db_session, "/api/v1/users?limit=2", headers)
    large = statements_per_page(client, db_session, "/api/v1/users?limit=15", headers)
    assert small == large
    page = client.application.test_client()
    login(page, staff["admin"])
    district = staff["district1"]
    levels = []
    for extra in (3, 40):  # a small level, then a large one: the same statements
        for n in range(extra):
            OrganisationFactory(name=f"社区{len(levels)}-{n}", kind="community", parent=district)
        db_session.commit()
        levels.append([statements_per_page(client, db_session, f"/api/v1/organisations?parent={district.id}&limit=500",
                                           headers),
                       statements_per_page(page, db_session, f"/admin/organisations?parent={district.id}&limit=500"),
                       statements_per_page(client, db_session, "/api/v1/organisations?q=社区&limit=500", headers),
                       statements_per_page(page, db_session, "/admin/organisations?q=社区&limit=500"),
                       statements_per_page(page, db_session, "/admin/organisations"),
                       statements_per_page(page, db_session, f"/admin/organisations/{staff['district2'].id}?find=社区")])
        assert ("社区1-39" in page.get(f"/admin/organisations?parent={district.id}&limit=500")
                .get_data(as_text=True)) == (len(levels) == 2)
    assert levels[0] == levels[1], levels  # no statement per organisation, on the API or the page
