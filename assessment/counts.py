"""The statistics' counter of approved assessments (table stats_assessment_day): how many current
approved assessments (approved, not superseded by an amendment) each organisation has per day of
approval, in the organisation's time zone, and final level. stats.queries sums these few rows
instead of counting a million assessments.

The approval that moves them (assessment.operations.sign_assessment: +1 for the approved version,
-1 for the version an amendment supersedes) calls `count_approval` in its own transaction; the
change is an upsert adding to the stored count, so two approvals at once both count.
`rebuild_day_counts` recomputes the whole table from history for `yiyang repair-state` (and the
city fill) and yields every drift. The days depend on the TIMEZONE setting: after changing it,
run `yiyang repair-state`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from assessment.models import NO_LEVEL, Assessment, AssessmentDayCount
from core.timeutil import aware, local_zone

Key = tuple[int, date, int]  # (organisation_id, approved_on, level_code)


def day_key(organisation_id: int, approved_at: datetime, level_code: int | None, zone: ZoneInfo) -> Key:
    return (organisation_id, aware(approved_at).astimezone(zone).date(),
            NO_LEVEL if level_code is None else level_code)


def _add(session: Session, key: Key, delta: int) -> None:
    """Add `delta` to one key's count, creating the row: one statement, safe under concurrency."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    organisation_id, approved_on, level_code = key
    stmt = insert(AssessmentDayCount).values(organisation_id=organisation_id, approved_on=approved_on,
                                             level_code=level_code, count=delta)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["organisation_id", "approved_on", "level_code"],
        set_={"count": AssessmentDayCount.count + stmt.excluded.count}))  # type: ignore[operator]


def count_approval(session: Session, approved: Assessment, superseded: Assessment | None = None) -> None:
    """An assessment was approved (and, for an amendment, the version it replaces superseded):
    count the one, uncount the other. Call once, in the approval's transaction."""
    zone = local_zone()
    if approved.approved_at is not None:
        _add(session, day_key(approved.organisation_id, approved.approved_at, approved.level_code, zone), 1)
    if superseded is not None and superseded.status == "approved" and superseded.approved_at is not None:
        _add(session, day_key(superseded.organisation_id, superseded.approved_at, superseded.level_code, zone), -1)
    for row in [o for o in session if isinstance(o, AssessmentDayCount)]:
        session.expire(row)  # loaded rows would hide the count the statement just wrote


def compute_day_counts(session: Session, zone: ZoneInfo | None = None) -> dict[Key, int]:
    """The counts the history gives, streamed from the approved-current index."""
    zone = zone or local_zone()
    counts: dict[Key, int] = defaultdict(int)
    rows = session.execute(
        select(Assessment.organisation_id, Assessment.approved_at, Assessment.level_code)
        .where(Assessment.status == "approved", Assessment.superseded_by_id.is_(None),  # type: ignore[union-attr]
               Assessment.approved_at.is_not(None))  # type: ignore[union-attr]
        .execution_options(yield_per=10_000))
    for organisation_id, approved_at, level_code in rows:
        counts[day_key(organisation_id, approved_at, level_code, zone)] += 1
    return dict(counts)


def rebuild_day_counts(session: Session, *, fix: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """Compare the stored counts with the history; yield each drifted key as (label, {"count":
    (stored, expected)}) and, when `fix`, correct it. Memory: one entry per key (organisations ×
    days × levels), never per assessment."""
    expected = compute_day_counts(session)
    stored = {(r.organisation_id, r.approved_on, r.level_code): r.count
              for r in session.execute(select(AssessmentDayCount.organisation_id, AssessmentDayCount.approved_on,  # type: ignore[call-overload]
                                              AssessmentDayCount.level_code, AssessmentDayCount.count))}
    drifted = sorted(key for key in expected.keys() | stored.keys() if expected.get(key, 0) != stored.get(key, 0))
    rows = []
    for key in drifted:
        organisation_id, approved_on, level_code = key
        yield (f"{organisation_id}/{approved_on.isoformat()}/{level_code}",
               {"count": (stored.get(key), expected.get(key, 0))})
        if fix and key in stored:
            session.execute(delete(AssessmentDayCount).where(
                AssessmentDayCount.organisation_id == organisation_id,  # type: ignore[arg-type]
                AssessmentDayCount.approved_on == approved_on, AssessmentDayCount.level_code == level_code))  # type: ignore[arg-type]
        if fix and expected.get(key):
            rows.append({"organisation_id": organisation_id, "approved_on": approved_on, "level_code": level_code,
                         "count": expected[key]})
    if fix and rows:
        session.execute(insert(AssessmentDayCount), rows)  # one batch, however many keys (the city fill)
