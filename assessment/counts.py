"""The statistics' counters of the assessment domain (core.counters moves and rebuilds them):

- stats_assessment_day: current approved assessments (approved, not superseded by an amendment)
  per organisation, day of approval in the organisation's time zone and final level. The approval
  that moves them (assessment.operations.sign_assessment: +1 for the approved version, -1 for the
  version an amendment supersedes) calls `count_approval` in its own transaction.
- stats_elder_level and stats_elder_due: elders per organisation, instrument and current level,
  and per organisation and month of the next due date (no assessment under way). They count
  elder_state rows, so they move with them: core.state.refresh calls `move_elder_counts` with the
  row's fields before and after each change, under the row's lock, in the same transaction.

Each change is an upsert adding to the stored count, so two changes at once both count. The
`rebuild_*` functions recompute a table from what it counts for `yiyang repair-state` (and the
city fill) and yield every drift. The days depend on the TIMEZONE setting: after changing it, run
`yiyang repair-state`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from assessment.models import (
    NO_LEVEL,
    Assessment,
    AssessmentDayCount,
    ElderDueCount,
    ElderLevelCount,
    ElderState,
)
from core import counters
from core.timeutil import aware, local_zone

Key = tuple[int, date, int]  # (organisation_id, approved_on, level_code)
DAY_KEYS = ("organisation_id", "approved_on", "level_code")
LEVEL_KEYS = ("organisation_id", "instrument_id", "level_code")
DUE_KEYS = ("organisation_id", "due_month")


def day_key(organisation_id: int, approved_at: datetime, level_code: int | None, zone: ZoneInfo) -> Key:
    return (organisation_id, aware(approved_at).astimezone(zone).date(),
            NO_LEVEL if level_code is None else level_code)


def count_approval(session: Session, approved: Assessment, superseded: Assessment | None = None) -> None:
    """An assessment was approved (and, for an amendment, the version it replaces superseded):
    count the one, uncount the other. Call once, in the approval's transaction."""
    zone = local_zone()
    if approved.approved_at is not None:
        counters.add(session, AssessmentDayCount, DAY_KEYS,
                     day_key(approved.organisation_id, approved.approved_at, approved.level_code, zone), 1)
    if superseded is not None and superseded.status == "approved" and superseded.approved_at is not None:
        counters.add(session, AssessmentDayCount, DAY_KEYS,
                     day_key(superseded.organisation_id, superseded.approved_at, superseded.level_code, zone), -1)
    counters.forget_loaded(session, AssessmentDayCount)


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
    """stats_assessment_day against the history (memory: one entry per organisation, day and
    level, never per assessment). A generator like the others: nothing is read until the caller
    iterates, so `yiyang repair-state` compares with the tables as rebuilt before them."""
    yield from counters.rebuild(session, AssessmentDayCount, DAY_KEYS, compute_day_counts(session), fix=fix)


# --- the elder_state counters ---------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def _level_key(state: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    if state is None or state.get("level_code") is None:
        return None
    return (state["organisation_id"], state.get("instrument_id") or "", state["level_code"])


def _due_key(state: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    if state is None or state.get("open_assessment_id") is not None or state.get("next_due_on") is None:
        return None
    return (state["organisation_id"], month_of(state["next_due_on"]))


def move_elder_counts(session: Session, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    """One elder_state row changed from `before` to `after` (None: no row): move its counts."""
    for model, keys, key_of in ((ElderLevelCount, LEVEL_KEYS, _level_key), (ElderDueCount, DUE_KEYS, _due_key)):
        old, new = key_of(before), key_of(after)
        if old == new:
            continue
        if old is not None:
            counters.add(session, model, keys, old, -1)
        if new is not None:
            counters.add(session, model, keys, new, 1)
        counters.forget_loaded(session, model)


def rebuild_level_counts(session: Session, *, fix: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """stats_elder_level against elder_state as stored (one GROUP BY; run after elder_state's own
    rebuild, as `yiyang repair-state` does)."""
    instrument = func.coalesce(ElderState.instrument_id, "")
    rows = session.execute(select(ElderState.organisation_id, instrument, ElderState.level_code, func.count())
                           .where(ElderState.level_code.is_not(None))  # type: ignore[union-attr]
                           .group_by(ElderState.organisation_id, instrument, ElderState.level_code))
    yield from counters.rebuild(session, ElderLevelCount, LEVEL_KEYS, {tuple(r[:3]): r[3] for r in rows}, fix=fix)


def rebuild_due_counts(session: Session, *, fix: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """stats_elder_due against elder_state as stored: one pass over the due index, summed here by
    month (the month is computed in Python so both databases agree)."""
    expected: dict[tuple[Any, ...], int] = defaultdict(int)
    rows = session.execute(select(ElderState.organisation_id, ElderState.next_due_on, func.count())
                           .where(ElderState.open_assessment_id.is_(None),  # type: ignore[union-attr]
                                  ElderState.next_due_on.is_not(None))  # type: ignore[union-attr]
                           .group_by(ElderState.organisation_id, ElderState.next_due_on)
                           .execution_options(yield_per=10_000))
    for organisation_id, due_on, count in rows:
        expected[(organisation_id, month_of(due_on))] += count
    yield from counters.rebuild(session, ElderDueCount, DUE_KEYS, dict(expected), fix=fix)
