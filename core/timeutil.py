"""UTC time in one place. Datetimes are timezone-aware UTC everywhere (SQLModel stores them so);
days and months people name are days and months in the organisation's time zone (setting
TIMEZONE, environment YIYANG_TIMEZONE, default Asia/Shanghai)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    """The organisation's time zone: the app's TIMEZONE setting, else YIYANG_TIMEZONE."""
    from flask import current_app, has_app_context

    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or os.environ.get("YIYANG_TIMEZONE") or DEFAULT_TIMEZONE)


def day_start(day: date, zone: ZoneInfo | None = None) -> datetime:
    """Midnight of `day` in the organisation's time zone, as aware UTC."""
    return datetime.combine(day, time.min, tzinfo=zone or local_zone()).astimezone(UTC)


def local_today(zone: ZoneInfo | None = None) -> date:
    """Today's date where the organisation is."""
    return utcnow().astimezone(zone or local_zone()).date()


def aware(moment: datetime) -> datetime:
    """SQLite may hand back naive datetimes; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
