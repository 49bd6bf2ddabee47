"""Writes of the grade reward table: every row checked first (all problems at once), then each
row created or edited under its version (core.db.bump_version) and audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from accounts.models import Organisation
from audit import record_event
from core.db import bump_version
from core.i18n import N_
from core.timeutil import utcnow
from rating.models import GradeReward
from rating.operations.facilities import RatingError
from rating.rewards import parse_entries


def _values(row: GradeReward) -> dict[str, Any]:
    return {"amount_fen": row.amount_fen, "note": row.note}


def save_grade_rewards(*, session: Session, actor: Any, organisation: Organisation, rewards: Any,
                       grades: dict[str, dict[int, Any]] | None = None) -> list[GradeReward]:
    """Create or edit rows of one organisation's grade → reward table (RatingError lists every
    problem; an edit of an existing row needs its version, a stale one is a 409)."""
    entries, problems = parse_entries(rewards, grades)
    existing: dict[tuple[str, int, str, Any], GradeReward] = {}
    if entries:
        for row in session.exec(select(GradeReward).where(GradeReward.organisation_id == organisation.id)):
            existing[(row.scheme, row.grade_code, row.period, row.valid_from)] = row
    for index, entry in enumerate(entries):
        row = existing.get((entry.scheme, entry.grade_code, entry.period, entry.valid_from))
        if row is not None and entry.version is None:
            problems.append({"item": f"rewards[{index}].version",
                             "message": N_("这一行已存在：修改时请带上它的 version")})
    if problems:
        raise RatingError(problems)
    saved = []
    for entry in entries:
        row = existing.get((entry.scheme, entry.grade_code, entry.period, entry.valid_from))
        if row is None:
            row = GradeReward(organisation_id=organisation.id or 0, scheme=entry.scheme,
                              grade_code=entry.grade_code, period=entry.period, valid_from=entry.valid_from)
            old: dict[str, Any] = {}
        else:
            old = _values(row)
            if old == {"amount_fen": entry.amount_fen, "note": entry.note}:
                saved.append(row)  # unchanged: no new version, no audit event
                continue
            bump_version(session, row, entry.version)
        row.amount_fen, row.note = entry.amount_fen, entry.note
        row.updated_at, row.updated_by_id = utcnow(), getattr(actor, "id", None)
        session.add(row)
        session.flush()
        record_event(session=session, action="rating.reward.set", target=row, actor=actor,
                     changes={"old": old, "new": _values(row) | {"scheme": row.scheme, "grade_code": row.grade_code,
                                                                 "period": row.period,
                                                                 "valid_from": row.valid_from.isoformat()}})
        saved.append(row)
    return saved


def delete_grade_reward(*, session: Session, actor: Any, reward: GradeReward, version: Any) -> None:
    """Remove one row entered by mistake (its version must be current); audited."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise RatingError([{"item": "version", "message": N_("version 应为整数")}])
    bump_version(session, reward, version)
    record_event(session=session, action="rating.reward.delete", target=reward, actor=actor,
                 changes={"old": _values(reward) | {"scheme": reward.scheme, "grade_code": reward.grade_code,
                                                    "period": reward.period, "valid_from": reward.valid_from.isoformat()}})
    session.delete(reward)
    session.flush()
