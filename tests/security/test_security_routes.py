"""Access control proven: every route declares who may call it, and nobody reads or changes
another organisation's records through any route with any role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import inspect, text

from accounts.cli import run_domain_seeders, seed_accounts
from core.auth import ROLES
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory

UNDECLARED_OK = {"static"}


def test_every_route_declares_its_roles(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDECLARED_OK:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "yiyang_access", None):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert not missing, "routes without @require_roles/@require_login/@public: " + ", ".join(missing)
    print(f"\n{len(list(app.url_map.iter_rules()))} routes, every one declares who may call it")


def _ids_by_param(db_session: Any, params: set[str]) -> dict[str, list[Any]]:
    """For `elder_id`, the ids of table `elder` (and likewise); other parameters get a few guesses."""
    tables = set(inspect(db_session.get_bind()).get_table_names())
    found: dict[str, list[Any]] = {}
    for param in params:
        table = next((t for t in _candidates(param) if t in tables), None)
        if table:
            rows = db_session.execute(text(f'SELECT id FROM "{table}" ORDER BY id LIMIT 3')).scalars().all()
            found[param] = list(rows) or [1]
        else:
            found[param] = [1, 2]
    return found


def _candidates(param: str) -> list[str]:
    """The tables a route parameter may name: `elder_id` → elder, `drawn_signature_id` →
    assessment_drawn_signature, and so on (one list for the probe and for the check below)."""
    stem = param.removesuffix("_id")
    return [stem, f"rating_{stem}", f"assessment_{stem}", f"{stem}_account", f"api_{stem}", f"organisation_{stem}",
            f"assessor_{stem}"]


def _mapped(db_session: Any, params: set[str]) -> list[str]:
    tables = set(inspect(db_session.get_bind()).get_table_names())
    return [p for p in params if any(t in tables for t in _candidates(p))]


def _other_org_users(org_tree: dict[str, Any]) -> dict[str, Any]:
    return {role: UserFactory(organisation=org_tree["other"], roles=role, username=f"probe_{role}")
            for role in ROLES}


def test_no_route_leaks_another_organisations_records(app, client, db_session):
    context, _ = seed_accounts(db_session, TEST_PASSWORD)
    with app.app_context():
        run_domain_seeders(db_session, context)
    db_session.flush()
    from accounts.operations import issue_api_token

    for user in list(context.users.values())[:2]:  # tokens of the target organisation's people
        issue_api_token(session=db_session, user=user)
    probes = _other_org_users({"other": context.organisations["other"]})
    rules = [r for r in app.url_map.iter_rules()
             if r.arguments and getattr(app.view_functions[r.endpoint], "yiyang_access", "") != "public"]
    params = {a for r in rules for a in r.arguments}
    ids = _ids_by_param(db_session, params)
    leaks = []
    probed = 0
    for role, user in probes.items():
        headers = {}
        token = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        for rule in rules:
            for n in range(max(len(ids[a]) for a in rule.arguments)):
                values = {a: ids[a][min(n, len(ids[a]) - 1)] for a in rule.arguments}
                if any(rule._converters[a].__class__.__name__ != "IntegerConverter" and not isinstance(v, str)
                       for a, v in values.items()):
                    values = {a: str(v) for a, v in values.items()}
                path = rule.build(values, append_unknown=False)[1]
                for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                    response = client.open(path, method=method, headers=headers, json={} if method != "GET" else None)
                    probed += 1
                    if 200 <= response.status_code < 300:
                        leaks.append(f"{role} {method} {path} -> {response.status_code}")
                    response.close()
        client.post("/logout")
    # names, not record ids: a certificate code, a file, an instrument or definition id and version,
    # an import's kind (elders/facilities/users) and a format (xlsx/csv), a definition's item id
    names = ("code", "filename", "instrument", "definition_id", "version", "kind", "fmt", "item")
    unmapped = {p for p in params if p not in names} - set(_mapped(db_session, params))
    assert not unmapped, f"route parameters the probe cannot map to a table: {unmapped}"
    assert probed > 100
    print(f"\nprobed {probed} requests: {len(rules)} routes with ids x {len(probes)} roles "
          f"of another organisation, {len(leaks)} leaks")
    assert not leaks, "another organisation's records reachable: " + "; ".join(leaks[:20])


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit/"])
def test_admin_pages_refuse_other_roles(client, org_tree, path):
    for role in ("assessor", "reviewer", "inspector", "operator"):
        user = UserFactory(organisation=org_tree["city"], roles=role)
        client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert client.get(path).status_code == 403, role
        client.post("/logout")


def test_route_parameters_are_named_for_their_records(app):
    """The probe above maps `<int:elder_id>` to table `elder`; keep parameter names meaningful."""
    for rule in app.url_map.iter_rules():
        for name in rule.arguments:
            assert re.fullmatch(r"[a-z_]+", name), rule.rule
