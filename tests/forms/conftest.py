"""The live demo server and the browser of the offline browser tests (tests/browser.py): one
server for every offline module of this package, a fresh browser per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OFFLINE_INSTANCE,
    OFFLINE_PASSWORD,
    demo_server,
    require_chromium,
)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    from assessment.demo import seed_demo as seed_assessments
    from rating.demo import seed_demo as seed_rating

    instance = tmp_path_factory.mktemp("offline")
    OFFLINE_INSTANCE["path"] = instance
    with demo_server(instance, OFFLINE_PASSWORD, [seed_assessments, seed_rating]) as base:
        yield base


@pytest.fixture()
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
