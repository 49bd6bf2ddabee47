"""UTC time in one place. Datetimes are timezone-aware UTC everywhere (SQLModel stores them so)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)
