"""Each facility's current state (table rating_facility_state): its current grade, the number of
open corrective actions and of inspections. Every operation that moves them calls
`refresh_facility_state(session, facility_id)` once, in its own transaction; lists and the
dashboard read these rows instead of walking grades and actions. `rebuild_states` recomputes
them from history for `yiyang repair-state`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from core.state import Drift, StateTable, rebuild, refresh
from rating.models import CorrectiveAction, Facility, FacilityState, Grade, Inspection

STATE_FIELDS = ("organisation_id", "grade_id", "grade_code", "grade_label", "grade_valid_until",
                "open_action_count", "inspection_count")


def compute_states(session: Session, facility_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(facility_ids)
    if not ids:
        return {}
    orgs = dict(session.execute(select(Facility.id, Facility.organisation_id)
                                .where(Facility.id.in_(ids))).all())  # type: ignore[union-attr]
    states: dict[int, dict[str, Any]] = {
        fid: {"organisation_id": org, "grade_id": None, "grade_code": None, "grade_label": None,
              "grade_valid_until": None, "open_action_count": 0, "inspection_count": 0}
        for fid, org in orgs.items()}
    grades = session.execute(
        select(Grade.facility_id, Grade.id, Grade.code, Grade.label, Grade.valid_until)
        .where(Grade.facility_id.in_(ids), Grade.superseded_by_id.is_(None))  # type: ignore[attr-defined, union-attr]
        .order_by(Grade.facility_id, Grade.id))
    for row in grades:  # the newest grade nothing superseded wins
        states[row.facility_id].update(grade_id=row.id, grade_code=row.code, grade_label=row.label[:64],
                                       grade_valid_until=row.valid_until)
    actions = session.execute(
        select(CorrectiveAction.facility_id, func.count())
        .where(CorrectiveAction.facility_id.in_(ids), CorrectiveAction.status != "closed")  # type: ignore[attr-defined]
        .group_by(CorrectiveAction.facility_id))
    for facility_id, count in actions:
        states[facility_id]["open_action_count"] = count
    inspections = session.execute(
        select(Inspection.facility_id, func.count()).where(Inspection.facility_id.in_(ids))  # type: ignore[attr-defined]
        .group_by(Inspection.facility_id))
    for facility_id, count in inspections:
        states[facility_id]["inspection_count"] = count
    return states


FACILITY_STATE = StateTable(parent=Facility, model=FacilityState, key="facility_id", fields=STATE_FIELDS,
                            compute=compute_states)


def refresh_facility_state(session: Session, facility_id: int | None) -> FacilityState | None:
    """Bring one facility's state row up to date (flushes; the caller's transaction commits)."""
    return refresh(session, FACILITY_STATE, facility_id)  # type: ignore[no-any-return]


def rebuild_states(session: Session, *, fix: bool = True, batch: int = 1000) -> Iterator[Drift]:
    """Yield each drifted facility (id, {field: (stored, expected)}; empty: the row was missing)
    and, when `fix`, correct it."""
    return rebuild(session, FACILITY_STATE, fix=fix, batch=batch)
