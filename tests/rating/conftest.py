"""Users and facilities the rating tests share."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory
from tests.rating.factories import FacilityFactory


@pytest.fixture()
def rating_world(app: Any, org_tree: dict[str, Any]) -> dict[str, Any]:
    """An admin and two inspectors in the city, facilities in its districts, an outsider."""
    city = org_tree["city"]
    return {
        **org_tree,
        "app": app,
        "admin": UserFactory(organisation=city, roles="admin"),
        "inspector": UserFactory(organisation=city, roles="inspector"),
        "inspector2": UserFactory(organisation=city, roles="inspector"),
        "outsider": UserFactory(organisation=org_tree["other"], roles="inspector admin"),
        "home": FacilityFactory(organisation=org_tree["district1"], name="阳光养老院"),
        "station": FacilityFactory(organisation=org_tree["district2"], name="和平社区养老服务站",
                                   kind="station", beds=10),
    }
