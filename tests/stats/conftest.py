"""Records the statistics tests share: a city with two districts and a street, another
organisation's records that must never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.timeutil import local_today
from tests.factories import OrganisationFactory, UserFactory
from tests.stats import plant

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture()
def world(org_tree: dict[str, Any]) -> dict[str, Any]:
    city, d1, d2, other = org_tree["city"], org_tree["district1"], org_tree["district2"], org_tree["other"]
    street = OrganisationFactory(name="测试街道", kind="street", parent=d1)
    admin = UserFactory(organisation=city, roles="admin")
    reviewer = UserFactory(organisation=city, roles="reviewer")
    outsider = UserFactory(organisation=other, roles="admin reviewer")
    planted = []  # (district name, month in Shanghai, level) of each counted assessment
    for org, district, when, level in (
            (d1, "测试一区", "2026-03-10T02:00:00", 1), (street, "测试一区", "2026-03-20T02:00:00", 2),
            (d1, "测试一区", "2026-03-31T17:00:00", 2),  # 1 April 01:00 in Shanghai
            (d2, "测试二区", "2026-04-15T02:00:00", 3), (d2, "测试二区", "2026-05-01T02:00:00", 3),
            (city, "测试市", "2026-05-02T02:00:00", 0)):  # kept by the city itself: its own row
        plant.assessment(org, level=level, approved_at=at(when))
        planted.append((district, datetime.fromisoformat(when).replace(tzinfo=UTC).astimezone(SHANGHAI)
                        .strftime("%Y-%m"), level))
    plant.assessment(d1, level=4, approved_at=at("2026-04-02T02:00:00"), superseded=True)  # an amended version
    plant.assessment(d1, status="signed", level=2)  # not approved
    plant.assessment(d1, level=2, approved_at=at("2026-06-02T02:00:00"))  # after the period
    plant.assessment(other, level=1, approved_at=at("2026-04-02T02:00:00"))  # another organisation
    facilities = []
    for org, district, grade in ((d1, "测试一区", 5), (street, "测试一区", 4), (d2, "测试二区", 4),
                                 (d2, "测试二区", None), (other, None, 3)):
        facilities.append((plant.facility(org, grade=grade), district, grade))
    actions = []
    for index, (status, opened) in enumerate((("open", "2026-03-03"), ("closed", "2026-03-04"),
                                              ("escalated", "2026-04-05"), ("open", "2026-04-30"))):
        facility = facilities[index % 3][0]
        verified = at(opened + "T09:00:00") + timedelta(days=5) if status == "closed" else None
        plant.action(facility, status=status, created_at=at(opened + "T09:00:00"), verified_at=verified)
        actions.append((status, opened[:7]))
    plant.action(facilities[4][0], status="open", created_at=at("2026-03-03T09:00:00"))  # other organisation
    today = local_today()
    plant.elder(d1, level=1)
    plant.elder(street, level=2, due=today - timedelta(days=3))
    plant.elder(d2, level=2, due=today + timedelta(days=3))
    plant.elder(other, level=1, due=today - timedelta(days=3))
    for level, fen in ((1, 10000), (2, 30000)):
        plant.entitlement(city, level, fen)
    return {**org_tree, "admin": admin, "reviewer": reviewer, "outsider": outsider, "planted": planted,
            "facilities": facilities, "actions": actions}
