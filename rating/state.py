"""Each facility's current state (table rating_facility_state): its current grade, the number of
open corrective actions and of inspections. Every operation that moves them calls
`refresh_facility_state(session, facility_id)` once, in its own transaction; lists and the
dashboard read these rows instead of walking grades and actions. `rebuild_states` recomputes
them from history for `yiyang repair-state`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from rating.models import CorrectiveAction, Facility, FacilityState, Grade, Inspection

STATE_MODEL = FacilityState
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


def refresh_facility_state(session: Session, facility_id: int | None) -> FacilityState | None:
    """Bring one facility's state row up to date (flushes; the caller's transaction commits)."""
    if facility_id is None:
        return None
    session.flush()
    wanted = compute_states(session, [facility_id]).get(facility_id)
    row = session.get(FacilityState, facility_id)
    if wanted is None:
        return None
    if row is None:
        row = FacilityState(facility_id=facility_id, **wanted)
    else:
        for name, value in wanted.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def rebuild_states(session: Session, *, fix: bool = True, batch: int = 1000) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (facility id, {field: (stored, expected)}) for each drifted facility and, when
    `fix`, correct it; an empty dict means the row was missing."""
    last = 0
    while True:
        ids = list(session.execute(select(Facility.id).where(Facility.id > last)  # type: ignore[operator]
                                   .order_by(Facility.id).limit(batch)).scalars())
        if not ids:
            break
        last = ids[-1]
        expected = compute_states(session, ids)
        stored = {row.facility_id: row for row in session.execute(
            select(FacilityState).where(FacilityState.facility_id.in_(ids))).scalars()}  # type: ignore[attr-defined]
        for facility_id in ids:
            want, row = expected[facility_id], stored.get(facility_id)
            if row is None:
                yield facility_id, {}
                if fix:
                    session.add(FacilityState(facility_id=facility_id, **want))
                continue
            diff = {n: (getattr(row, n), want[n]) for n in STATE_FIELDS if getattr(row, n) != want[n]}
            if diff:
                yield facility_id, diff
                if fix:
                    for name, value in want.items():
                        setattr(row, name, value)
                    session.add(row)
        if fix:
            session.flush()
        for obj in [o for o in session if isinstance(o, STATE_MODEL)]:
            session.expunge(obj)  # bounded memory: forget this batch's rows
    if fix:
        session.execute(delete(FacilityState).where(
            ~FacilityState.facility_id.in_(select(Facility.id))))  # type: ignore[attr-defined]
