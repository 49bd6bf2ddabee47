"""The audit page's action filter comes from audit.actions.ACTIONS: every action the code
records must be listed there."""

from __future__ import annotations

import ast
from pathlib import Path

from audit.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [p for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "tests"]


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "record_event":
                    for keyword in node.keywords:
                        if keyword.arg == "action":
                            found.update(_literals(keyword.value))
    return found


def test_every_recorded_action_is_listed():
    recorded = recorded_actions()
    assert len(recorded) > 30
    missing = sorted(recorded - set(ACTIONS))
    assert not missing, f"add these to audit/actions.py ACTIONS: {missing}"


def test_the_filter_offers_the_list_without_reading_the_log(client, org_tree, db_session):
    from tests.conftest import login
    from tests.factories import UserFactory

    login(client, UserFactory(organisation=org_tree["city"], roles="admin"))
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert all(f'<option value="{a}"' in page for a in ("rating.certificate.revoke", "login.failed"))
