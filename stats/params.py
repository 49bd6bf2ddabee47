"""The statistics' filters, read from query arguments with every problem listed at once:
period (`from`, `to`: YYYY-MM or YYYY-MM-DD, inclusive, in the organisation's time zone),
organisation subtree (`org`) and, for the API, the breakdown (`by`)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from accounts.models import User
from assessment.lists import org_scope
from core.errors import DomainError
from core.i18n import N_
from core.paging import PagingError
from core.timeutil import day_start, local_today, local_zone

MAX_MONTHS = 60  # the longest period one request may break down by month
DEFAULT_MONTHS = 12


class StatsError(DomainError):
    """Bad statistics filters: a 422 listing each problem ({"item", "message"})."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        DomainError.__init__(self, N_("统计条件有误"), status=422, code="invalid_input", errors=errors)


@dataclass(frozen=True)
class Month:
    key: str  # "2026-11"
    first: date  # the first day counted (the period's start in the first month)
    last: date  # the last day counted
    start: datetime  # aware UTC bounds: start <= t < end
    end: datetime


@dataclass
class Filters:
    start: date
    end: date  # inclusive
    orgs: list[int]
    org: int | None
    zone: ZoneInfo
    today: date
    by: tuple[str, ...] = ()
    months: list[Month] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # per request: the district units

    @property
    def start_at(self) -> datetime:
        return self.months[0].start

    @property
    def end_at(self) -> datetime:
        return self.months[-1].end


def _parse_day(text: str, *, last: bool) -> date:
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        if text[4] != "-":
            raise ValueError(text)
        return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
    return date.fromisoformat(text)


def month_list(start: date, end: date, zone: ZoneInfo) -> list[Month]:
    """The calendar months from `start` to `end` (inclusive days), clipped to them."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        first = max(date(year, month, 1), start)
        last = min(date(year, month, calendar.monthrange(year, month)[1]), end)
        following = date.fromordinal(last.toordinal() + 1)
        months.append(Month(f"{year:04d}-{month:02d}", first, last, day_start(first, zone),
                            day_start(following, zone)))
        year, month = year + (month == 12), month % 12 + 1
    return months


def parse_filters(session: Session, user: User, args: Mapping[str, Any], *, allowed_by: Sequence[str] = (),
                  today: date | None = None) -> Filters:
    """The filters of one statistics request, or StatsError naming every bad argument."""
    zone = local_zone()
    today = today or local_today(zone)
    errors: list[dict[str, Any]] = []
    days: dict[str, date | None] = {}
    for name, last in (("from", False), ("to", True)):
        raw = str(args.get(name) or "").strip()
        days[name] = None
        if raw:
            try:
                days[name] = _parse_day(raw, last=last)
            except ValueError:
                errors.append({"item": name, "message": _l("%(name)s 应为 YYYY-MM 或 YYYY-MM-DD", name=name)})
    end = days["to"] or today
    start = days["from"] or _months_back(end, DEFAULT_MONTHS - 1)
    if days["from"] and days["to"] and start > end:
        errors.append({"item": "from", "message": _l("开始日期不能晚于结束日期")})
    elif (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
        errors.append({"item": "from", "message": _l("统计区间最长 %(n)d 个月", n=MAX_MONTHS)})
    by: tuple[str, ...] = ()
    if allowed_by:
        wanted = [part.strip() for part in str(args.get("by") or "").split(",") if part.strip()]
        unknown = [part for part in wanted if part not in allowed_by]
        if unknown:
            errors.append({"item": "by", "message": _l("by 可选：%(keys)s", keys=", ".join(allowed_by))})
        by = tuple(dict.fromkeys(part for part in wanted if part in allowed_by))
    orgs: list[int] = []
    try:
        orgs = org_scope(session, user, args.get("org"))
    except PagingError:
        errors.append({"item": "org", "message": _l("org 应为您可查看的机构编号")})
    if errors:
        raise StatsError(errors)
    org = int(str(args.get("org"))) if args.get("org") not in (None, "") else None
    return Filters(start, end, orgs, org, zone, today, by, month_list(start, end, zone))


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(key: str) -> tuple[date, date]:
    """First and last day of a month "YYYY-MM"."""
    year, month = int(key[:4]), int(key[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
