"""Each elder's current state (table elder_state): the latest approved assessment, its level, the
next reassessment date and whether a new assessment is under way.

Every operation that moves it calls `refresh_elder_state(session, elder_id)` once, in its own
transaction, so lists and counters read one row per elder instead of walking the history.
`rebuild_states` recomputes the same thing in batches from history (for `yiyang repair-state`).
The statistics' counters over these rows (stats_elder_level, stats_elder_due) move with each
refresh (assessment.counts.move_elder_counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from accounts.models import Organisation
from assessment.counts import move_elder_counts
from assessment.models import Assessment, Elder, ElderState
from assessment.queries import add_months
from core.state import Drift, StateTable, rebuild, refresh

DEFAULT_MONTHS = 12
STATE_FIELDS = ("organisation_id", "latest_assessment_id", "instrument_id", "level_code", "level_label",
                "approved_at", "next_due_on", "open_assessment_id", "assessment_count")


def _months(session: Session, cache: dict[int, int], organisation_id: int) -> int:
    if organisation_id not in cache:  # the one column, not the entity: migration 0290 runs this on a
        # schema where other branches' organisation columns may not exist yet
        months = session.scalar(select(Organisation.reassessment_months).where(Organisation.id == organisation_id))
        cache[organisation_id] = months or DEFAULT_MONTHS
    return cache[organisation_id]


def _level(result: dict[str, Any] | None) -> tuple[int | None, str | None]:
    level = (result or {}).get("level") or {}
    code = level.get("code")
    label = level.get("label")
    if isinstance(label, dict):
        label = label.get("zh") or label.get("en")
    return (int(code) if isinstance(code, int | float) else None,
            str(label)[:64] if label is not None else None)


def compute_states(session: Session, elder_ids: Iterable[int],
                   months_cache: dict[int, int] | None = None) -> dict[int, dict[str, Any]]:
    """The state each elder should have, from its elder row and its assessments."""
    ids = list(elder_ids)
    if not ids:
        return {}
    months_cache = {} if months_cache is None else months_cache
    orgs = dict(session.execute(select(Elder.id, Elder.organisation_id).where(Elder.id.in_(ids))).all())  # type: ignore[union-attr]
    history: dict[int, list[Any]] = {elder_id: [] for elder_id in orgs}
    rows = session.execute(
        select(Assessment.elder_id, Assessment.id, Assessment.status, Assessment.amends_id,
               Assessment.superseded_by_id, Assessment.approved_at, Assessment.organisation_id,
               Assessment.instrument_id)
        .where(Assessment.elder_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(Assessment.elder_id, Assessment.created_at, Assessment.id))
    for row in rows:
        history[row.elder_id].append(row)
    states: dict[int, dict[str, Any]] = {}
    latest_ids: dict[int, int] = {}
    for elder_id, organisation_id in orgs.items():
        latest = None
        open_id = None
        for row in history[elder_id]:
            if row.status == "approved" and not row.superseded_by_id:
                latest, open_id = row, None
            elif row.status != "approved" and not row.amends_id:
                open_id = row.id
        state: dict[str, Any] = {"organisation_id": organisation_id, "latest_assessment_id": None,
                                 "instrument_id": None, "level_code": None, "level_label": None,
                                 "approved_at": None, "next_due_on": None, "open_assessment_id": open_id,
                                 "assessment_count": len(history[elder_id])}
        if latest is not None:
            state.update(latest_assessment_id=latest.id, instrument_id=latest.instrument_id,
                         approved_at=latest.approved_at)
            if latest.approved_at is not None:
                state["next_due_on"] = add_months(
                    latest.approved_at.date(), _months(session, months_cache, latest.organisation_id))
            latest_ids[latest.id] = elder_id
        states[elder_id] = state
    if latest_ids:
        results = session.execute(select(Assessment.id, Assessment.result)
                                  .where(Assessment.id.in_(list(latest_ids))))  # type: ignore[union-attr]
        for assessment_id, result in results:
            code, label = _level(result)
            states[latest_ids[assessment_id]].update(level_code=code, level_label=label)
    return states


ELDER_STATE = StateTable(parent=Elder, model=ElderState, key="elder_id", fields=STATE_FIELDS,
                         compute=compute_states, on_change=move_elder_counts)


def refresh_elder_state(session: Session, elder_id: int | None) -> ElderState | None:
    """Bring one elder's state row up to date (flushes; the caller's transaction commits)."""
    return refresh(session, ELDER_STATE, elder_id)  # type: ignore[no-any-return]


def rebuild_states(session: Session, *, fix: bool = True, batch: int = 2000) -> Iterator[Drift]:
    """Compare every elder's stored state with its history, batch by batch; yield each drift
    found and (when `fix`) correct it. Orphan state rows are removed."""
    months: dict[int, int] = {}  # organisation → reassessment interval, shared by the batches
    table = replace(ELDER_STATE, compute=lambda s, ids: compute_states(s, ids, months))
    return rebuild(session, table, fix=fix, batch=batch)
