"""The inbox: each role's counters equal the records planted (another organisation's never count),
the links open the lists that show exactly those records, the home page shows them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from core.timeutil import local_today, utcnow
from tests.conftest import api_token, login
from tests.factories import UserFactory
from tests.stats import plant


@pytest.fixture()
def world(org_tree: dict[str, Any]) -> dict[str, Any]:
    city, d1, d2, other = org_tree["city"], org_tree["district1"], org_tree["district2"], org_tree["other"]
    people = {
        "assessor": UserFactory(organisation=d1, roles="assessor"),
        "assessor2": UserFactory(organisation=d1, roles="assessor"),
        "reviewer": UserFactory(organisation=city, roles="reviewer"),
        "inspector": UserFactory(organisation=city, roles="inspector"),
        "admin": UserFactory(organisation=city, roles="admin"),
        "outsider": UserFactory(organisation=other, roles="assessor reviewer inspector admin"),
    }
    me, colleague = people["assessor"], people["assessor2"]
    today = local_today()
    # assessor: 3 own drafts (and one of a colleague's), 2 submitted of which 1 already signed by me
    for _ in range(3):
        plant.assessment(d1, status="draft", creator=me)
    plant.assessment(d1, status="draft", creator=colleague)
    signed_by_me = plant.assessment(d1, status="submitted", creator=colleague)
    plant.signature(signed_by_me, me)
    plant.assessment(d1, status="submitted", creator=colleague)
    plant.assessment(d2, status="submitted", creator=colleague)  # visible? no: the assessor is in d1
    # reassessments: 2 overdue, 1 due soon, 1 far away in d1
    plant.elder(d1, level=2, due=today - timedelta(days=3))
    plant.elder(d1, level=2, due=today - timedelta(days=40))
    plant.elder(d1, level=1, due=today + timedelta(days=5))
    plant.elder(d1, level=1, due=today + timedelta(days=300))
    # reviewer: 2 signed in the city's subtree
    plant.assessment(d1, status="signed")
    plant.assessment(d2, status="signed")
    # rating: planned 2, in progress 1, submitted 1; grades expiring 1 (and one far); overdue 2
    home, station = plant.facility(d1, grade=4, valid_until=today + timedelta(days=30)), plant.facility(d2, grade=3)
    plant.facility(d2, grade=5, valid_until=today + timedelta(days=400))
    plant.inspection(home, status="planned")
    plant.inspection(station, status="planned")
    plant.inspection(home, status="in_progress")
    plant.inspection(station, status="submitted")
    plant.action(home, status="open", due_at=utcnow() - timedelta(days=2))
    plant.action(station, status="escalated", due_at=utcnow() - timedelta(days=20))
    plant.action(station, status="open", due_at=utcnow() + timedelta(days=20))
    plant.action(station, status="closed", due_at=utcnow() - timedelta(days=20), verified_at=utcnow())
    # another organisation's records of every kind
    foreign = plant.facility(other, grade=2, valid_until=today + timedelta(days=10))
    plant.inspection(foreign, status="planned")
    plant.inspection(foreign, status="submitted")
    plant.action(foreign, status="open", due_at=utcnow() - timedelta(days=2))
    plant.assessment(other, status="draft", creator=people["outsider"])
    plant.assessment(other, status="signed")
    plant.elder(other, level=1, due=today - timedelta(days=3))
    return {**org_tree, **people}


EXPECTED = {
    "assessor": {"assessment.drafts": 3, "assessment.to_sign": 1, "assessment.due_overdue": 2,
                 "assessment.due_soon": 1},
    "reviewer": {"assessment.review": 2},
    "inspector": {"rating.planned": 2, "rating.in_progress": 1},
    "admin": {"rating.approvals": 1, "rating.grades_expiring": 1, "rating.actions_overdue": 2},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_inbox_api_counts_equal_planted_records(client: Any, world: dict[str, Any], role: str) -> None:
    body = client.get("/api/v1/inbox", headers=api_token(client, world[role])).get_json()
    assert {k: v for k, v in body["counts"].items() if k in EXPECTED[role]} == EXPECTED[role]
    assert set(body["counts"]) >= set(EXPECTED[role])
    assert not any(body["more"].values())
    for item in body["items"]:
        assert set(item) == {"kind", "id", "title", "action", "due_at"}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_inbox_links_open_lists_with_the_same_count(client: Any, world: dict[str, Any], role: str) -> None:
    body = client.get("/api/v1/inbox", headers=api_token(client, world[role])).get_json()
    login(client, world[role])
    for name, expected in EXPECTED[role].items():
        page = client.get(body["links"][name])
        assert page.status_code == 200, (name, body["links"][name])
        html = page.get_data(as_text=True)
        if name.startswith("assessment.due"):  # the due list shows rows, one per elder
            assert html.count('href="/elders/') >= expected, name
        else:
            assert f"共 {expected} 条" in html, (name, body["links"][name])


def test_inbox_items_are_the_most_urgent_first(client: Any, world: dict[str, Any]) -> None:
    items = client.get("/api/v1/inbox", headers=api_token(client, world["admin"])).get_json()["items"]
    dated = [i["due_at"] for i in items if i["due_at"]]
    assert dated == sorted(dated) and len(dated) == 3  # two overdue actions, one expiring grade
    assert {i["kind"] for i in items} == {"action", "facility", "inspection"}


def test_outsider_sees_only_its_own_records(client: Any, world: dict[str, Any]) -> None:
    counts = client.get("/api/v1/inbox", headers=api_token(client, world["outsider"])).get_json()["counts"]
    assert counts["assessment.drafts"] == 1 and counts["assessment.review"] == 1
    assert counts["assessment.due_overdue"] == 1 and counts["rating.planned"] == 1
    assert counts["rating.approvals"] == 1 and counts["rating.actions_overdue"] == 1
    assert counts["rating.grades_expiring"] == 1 and counts["assessment.to_sign"] == 0


def test_home_page_shows_the_inbox(client: Any, world: dict[str, Any]) -> None:
    login(client, world["assessor"])
    html = client.get("/").get_data(as_text=True)
    counters = dict(re.findall(r'data-inbox="([\w.]+)">\s*<span class="inbox-count">(\d+)', html))
    assert counters == {k: str(v) for k, v in EXPECTED["assessor"].items()}
    assert "我的待办" in html


def test_inbox_needs_a_login(client: Any, world: dict[str, Any]) -> None:
    assert client.get("/api/v1/inbox").status_code == 401
