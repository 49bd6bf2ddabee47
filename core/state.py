"""The mechanics shared by the current-state tables (elder_state, rating_facility_state): one row
per parent record, computed from history by the domain's `compute_states`, refreshed by the
operations in their own transaction and rebuilt in batches by `yiyang repair-state`.

A domain describes its table with a `StateTable` (the parent model, the state model, the key
column, the compared fields, the compute function and, for counters kept over the state rows,
`on_change`); `refresh` and `rebuild` do the rest. `refresh` takes the state row's lock before it
reads the history, so two transactions refreshing one row take turns and the second reads what
the first committed (no stale row, no counter moved twice from the same old value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session


@dataclass(frozen=True)
class StateTable:
    parent: Any  # the model whose rows each have one state row (Elder, Facility)
    model: Any  # the state model (ElderState, FacilityState)
    key: str  # the state model's key column, the parent's id (elder_id, facility_id)
    fields: tuple[str, ...]  # the stored fields a rebuild compares
    compute: Callable[[Session, Iterable[int]], dict[int, dict[str, Any]]]  # id → wanted fields
    # called by `refresh` with the row's fields before and after (None: no row), in its transaction
    on_change: Callable[[Session, dict[str, Any] | None, dict[str, Any] | None], None] | None = None


@dataclass
class Drift:
    row_id: int
    fields: dict[str, tuple[Any, Any]]  # name → (stored, expected); empty when the row was missing

    @property
    def elder_id(self) -> int:  # the elder tables' name for the key
        return self.row_id

    def __iter__(self) -> Iterator[Any]:  # (row id, fields), as repair-state prints them
        return iter((self.row_id, self.fields))


def refresh(session: Session, table: StateTable, row_id: int | None) -> Any:
    """Bring one state row up to date: insert, update, or delete it when its parent is gone
    (flushes; the caller's transaction commits)."""
    if row_id is None:
        return None
    session.flush()
    # The lock first (PostgreSQL; SQLite has one writer): the history read below then sees what
    # a concurrent refresh of the same row committed.
    row = session.get(table.model, row_id, with_for_update=True, populate_existing=True)
    wanted = table.compute(session, [row_id]).get(row_id)
    before = {name: getattr(row, name) for name in table.fields} if row is not None else None
    if wanted is None:
        if row is not None:
            session.delete(row)
            session.flush()
    else:
        if row is None:
            row = table.model(**{table.key: row_id}, **wanted)
        else:
            for name, value in wanted.items():
                setattr(row, name, value)
        session.add(row)
        session.flush()
    if table.on_change is not None and before != wanted:
        table.on_change(session, before, wanted)
    return row if wanted is not None else None


def _batches(session: Session, parent: Any, size: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(session.execute(select(parent.id).where(parent.id > last)
                                   .order_by(parent.id).limit(size)).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


def rebuild(session: Session, table: StateTable, *, fix: bool = True, batch: int = 2000) -> Iterator[Drift]:
    """Compare every stored state row with its history, batch by batch in bounded memory; yield
    each drift found and (when `fix`) correct it. Orphan state rows are reported and removed."""
    key = getattr(table.model, table.key)
    for ids in _batches(session, table.parent, batch):
        expected = table.compute(session, ids)
        stored = {getattr(row, table.key): row for row in session.execute(
            select(table.model).where(key.in_(ids))).scalars()}
        for row_id in ids:
            want, row = expected[row_id], stored.get(row_id)
            if row is None:
                yield Drift(row_id, {})
                if fix:
                    session.add(table.model(**{table.key: row_id}, **want))
                continue
            diff = {name: (getattr(row, name), want[name]) for name in table.fields
                    if getattr(row, name) != want[name]}
            if diff:
                yield Drift(row_id, diff)
                if fix:
                    for name, value in want.items():
                        setattr(row, name, value)
                    session.add(row)
        if fix:
            session.flush()
        for obj in [o for o in session if isinstance(o, table.model)]:
            session.expunge(obj)  # bounded memory: forget this batch's rows
    orphans = ~key.in_(select(table.parent.id))
    for row_id in list(session.execute(select(key).where(orphans)).scalars()):
        yield Drift(row_id, {"parent": ("orphan", None)})
    if fix:
        session.execute(delete(table.model).where(orphans))
