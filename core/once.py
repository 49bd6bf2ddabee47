"""One-of-a-kind writes decided by the database, not by a read followed by a write.

Two requests that both read "not there yet" (or "still in progress") and then write would both
win; here the database arbitrates: an insert guarded by a unique constraint, or a conditional
UPDATE of the status. The loser learns it lost (False) and answers 409; nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session


def add_once(session: Session, obj: Any) -> bool:
    """Insert `obj` in a savepoint; False (and nothing written) when a unique constraint says
    such a row exists already."""
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
    except IntegrityError:
        return False
    return True


def claim_status(session: Session, obj: Any, *, from_states: Iterable[str], to_state: str,
                 bump_version: bool = True) -> bool:
    """Move `obj.status` from one of `from_states` to `to_state` in one conditional UPDATE (and
    advance its version); False when another writer moved it first."""
    model = type(obj)
    values: dict[str, Any] = {"status": to_state}
    if bump_version:
        values["version"] = model.version + 1
    result = session.execute(
        update(model).where(model.id == obj.id, model.status.in_(list(from_states)))
        .values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(obj)
        return False
    set_committed_value(obj, "status", to_state)
    if bump_version:
        session.refresh(obj, ["version"])
    return True
