"""GET /api/v1/stats/…: the figures equal counts made here from the planted records (not from the
statistics code), in the organisation's time zone, scoped to what the caller may see."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.conftest import api_token
from tests.factories import UserFactory

PERIOD = "from=2026-03&to=2026-05"


def _rows(body: dict[str, Any], *keys: str) -> dict[tuple[Any, ...], int]:
    for row in body["rows"]:
        assert set(row) == {*keys, "count"}
    return {tuple(row[k] for k in keys): row["count"] for row in body["rows"]}


@pytest.mark.parametrize("who", ["admin", "reviewer"])
def test_assessments_by_district_month_level(client: Any, world: dict[str, Any], who: str) -> None:
    headers = api_token(client, world[who])
    body = client.get(f"/api/v1/stats/assessments?by=district,month,level&{PERIOD}", headers=headers).get_json()
    assert _rows(body, "district", "month", "level") == Counter(world["planted"])
    assert body["total"] == len(world["planted"]) == 6


def test_assessments_one_key_sums_over_the_others(client: Any, world: dict[str, Any]) -> None:
    headers = api_token(client, world["admin"])
    by_month = client.get(f"/api/v1/stats/assessments?by=month&{PERIOD}", headers=headers).get_json()
    assert _rows(by_month, "month") == Counter((m,) for _d, m, _l in world["planted"])
    assert _rows(by_month, "month")[("2026-04",)] == 2  # the 31 March 17:00 UTC approval is April in Shanghai
    by_level = client.get(f"/api/v1/stats/assessments?by=level&{PERIOD}", headers=headers).get_json()
    assert _rows(by_level, "level") == Counter((lvl,) for _d, _m, lvl in world["planted"])
    total = client.get(f"/api/v1/stats/assessments?{PERIOD}", headers=headers).get_json()
    assert total["rows"] == [{"count": 6}] and total["total"] == 6


def test_assessments_org_subtree(client: Any, world: dict[str, Any]) -> None:
    headers = api_token(client, world["admin"])
    body = client.get(f"/api/v1/stats/assessments?by=district&{PERIOD}&org={world['district1'].id}",
                      headers=headers).get_json()
    # under a district the breakdown is by street: the street's record, and the district's own two
    assert _rows(body, "district") == {("测试街道",): 1, ("测试一区",): 2}


def test_facilities_by_grade_and_district(client: Any, world: dict[str, Any]) -> None:
    body = client.get("/api/v1/stats/facilities?by=district,grade",
                      headers=api_token(client, world["admin"])).get_json()
    expected = Counter((d, g) for _f, d, g in world["facilities"] if d is not None)
    assert _rows(body, "district", "grade") == expected and body["total"] == 4


def test_actions_by_status_and_month(client: Any, world: dict[str, Any]) -> None:
    body = client.get(f"/api/v1/stats/actions?by=status,month&{PERIOD}",
                      headers=api_token(client, world["admin"])).get_json()
    assert _rows(body, "status", "month") == Counter(world["actions"]) and body["total"] == 4


def test_outsider_counts_only_its_own(client: Any, world: dict[str, Any]) -> None:
    headers = api_token(client, world["outsider"])
    assert client.get(f"/api/v1/stats/assessments?{PERIOD}", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/stats/facilities", headers=headers).get_json()["total"] == 1
    assert client.get(f"/api/v1/stats/actions?{PERIOD}", headers=headers).get_json()["total"] == 1
    refused = client.get(f"/api/v1/stats/assessments?org={world['city'].id}", headers=headers)
    assert refused.status_code == 422


def test_bad_parameters_list_every_problem(client: Any, world: dict[str, Any]) -> None:
    response = client.get("/api/v1/stats/assessments?by=level,colour&from=2026-13&to=yesterday&org=abc",
                          headers=api_token(client, world["admin"]))
    assert response.status_code == 422
    assert sorted(e["item"] for e in response.get_json()["errors"]) == ["by", "from", "org", "to"]
    too_long = client.get("/api/v1/stats/actions?from=2020-01&to=2026-01", headers=api_token(client, world["admin"]))
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["item"] == "from"
    reversed_period = client.get("/api/v1/stats/facilities?from=2026-05&to=2026-03",
                                 headers=api_token(client, world["admin"]))
    assert reversed_period.status_code == 422


def test_stats_are_for_administrators_and_reviewers(client: Any, world: dict[str, Any]) -> None:
    assessor = UserFactory(organisation=world["city"], roles="assessor inspector")
    assert client.get("/api/v1/stats/assessments", headers=api_token(client, assessor)).status_code == 403
