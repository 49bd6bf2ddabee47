"""Is a visit plausible? Pure checks over a visit summary: no Flask, no database, no clock.

    summary = VisitSummary(started_at=..., ended_at=..., active_seconds=..., items_answered=...,
                           location=(lat, lon, accuracy_m) or None, location_status="granted")
    visit_warnings(summary, policy=VisitPolicy(...), elder_location=(lat, lon) or None, tz=ZoneInfo(...))
    → [VisitWarning(code="too_fast", values={...}), ...]

Three warnings, each a documented setting (docs/assessment.md, README):

- too_fast: fewer than `min_seconds_per_item` seconds of work per answered item (60 items in
  2 minutes is 2 s an item; the default asks for 5). Work is the time the form was open and in
  front of the assessor, summed over every device and section.
- far_away: the device was, at the start or at the end of the visit, more than `max_distance_m`
  from the elder's address coordinates (plus
  the location's own accuracy, so a coarse fix never counts against the assessor). Only when both
  positions are known.
- off_hours: the visit started or ended outside `working_hours` (local time). None turns it off.

A warning is a code with values; the page words it (assessment.presenters / templates) in the
reader's language. None of them blocks anything: the reviewer decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class VisitPolicy:
    min_seconds_per_item: float = 5.0
    min_items_checked: int = 10  # below this many answers the pace says nothing
    max_distance_m: float = 1000.0
    working_hours: tuple[time, time] | None = (time(7, 0), time(20, 0))


@dataclass(frozen=True)
class VisitSummary:
    started_at: datetime | None
    ended_at: datetime | None
    active_seconds: float
    items_answered: int
    location: tuple[float, float, float | None] | None = None  # latitude, longitude, accuracy in m
    location_status: str = ""
    end_location: tuple[float, float, float | None] | None = None  # the same, at the end of the visit
    end_location_status: str = ""


@dataclass(frozen=True)
class VisitWarning:
    code: str
    values: dict[str, Any] = field(default_factory=dict)


def parse_working_hours(text: str) -> tuple[time, time] | None:
    """'07:00-20:00' → (07:00, 20:00); 'off' or '' → None. ValueError when unreadable."""
    text = text.strip().lower()
    if text in ("", "off", "0", "none"):
        return None
    start, _sep, end = text.partition("-")
    first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if first >= last:
        raise ValueError(f"working hours must run forward within a day: {text!r}")
    return first, last


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def visit_warnings(summary: VisitSummary, *, policy: VisitPolicy, elder_location: tuple[float, float] | None,
                   tz: tzinfo) -> list[VisitWarning]:
    """The reasons a reviewer should look twice at this visit, in a fixed order."""
    out: list[VisitWarning] = []
    items = summary.items_answered
    if items >= policy.min_items_checked and summary.active_seconds < items * policy.min_seconds_per_item:
        out.append(VisitWarning("too_fast", {"items": items, "minutes": round(summary.active_seconds / 60, 1),
                                             "seconds_per_item": policy.min_seconds_per_item}))
    for place in (summary.location, summary.end_location):  # the start, then the end: one warning
        if place is None or elder_location is None:
            continue
        latitude, longitude, accuracy = place
        metres = distance_m((latitude, longitude), elder_location)
        if metres > policy.max_distance_m + (accuracy or 0.0):
            out.append(VisitWarning("far_away", {"km": round(metres / 1000, 1),
                                                 "limit_km": round(policy.max_distance_m / 1000, 1)}))
            break
    if policy.working_hours is not None:
        first, last = policy.working_hours
        for moment in (summary.started_at, summary.ended_at):
            if moment is None:
                continue
            local = moment.astimezone(tz).time()
            if not first <= local <= last:
                out.append(VisitWarning("off_hours", {"time": local.strftime("%H:%M"), "from": first.strftime("%H:%M"),
                                                      "to": last.strftime("%H:%M")}))
                break
    return out
