"""Fixtures for engine tests: answer builders for the shipped packs."""

from __future__ import annotations

from typing import Any

import pytest

import instruments


@pytest.fixture
def gbt42195() -> Any:
    return instruments.get("gbt42195-2022")
