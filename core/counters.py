"""Counters the statistics read instead of counting millions of rows: small tables keyed by
organisation and a few columns, each row a count. One way to move them (`add`: an upsert adding a
delta, so two transactions at once both count) and one way to rebuild them from what they count
(`rebuild`: compare, report each drifted key, correct), for every counter table.

The counter tables themselves live with their domain (assessment.models: stats_assessment_day,
stats_elder_level, stats_elder_due) and so do the rules of what moves them (assessment.counts).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

Key = tuple[Any, ...]


def add(session: Session, model: Any, keys: Sequence[str], key: Key, delta: int) -> None:
    """Add `delta` to one key's count, creating the row: one statement, safe under concurrency."""
    if not delta:
        return
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(model).values(**dict(zip(keys, key, strict=True)), count=delta)
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                               set_={"count": model.count + stmt.excluded.count}))


def forget_loaded(session: Session, model: Any) -> None:
    """Expire loaded counter rows: they would hide the counts the statements just wrote."""
    for row in [o for o in session if isinstance(o, model)]:
        session.expire(row)


def label(key: Key) -> str:
    return "/".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in key)


def rebuild(session: Session, model: Any, keys: Sequence[str], expected: Mapping[Key, int], *,
            fix: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """Compare the stored counts with `expected` (what the counted rows give); yield each drifted
    key as (label, {"count": (stored, expected)}) and, when `fix`, correct it. Memory: one entry
    per key, never per counted row."""
    columns = [getattr(model, k) for k in keys]
    stored = {tuple(row[:-1]): row[-1] for row in session.execute(select(*columns, model.count))}
    drifted = sorted(k for k in expected.keys() | stored.keys() if expected.get(k, 0) != stored.get(k, 0))
    rows = []
    for key in drifted:
        yield label(key), {"count": (stored.get(key), expected.get(key, 0))}
        if fix and key in stored:
            session.execute(delete(model).where(and_(*[c == v for c, v in zip(columns, key, strict=True)])))
        if fix and expected.get(key):
            rows.append({**dict(zip(keys, key, strict=True)), "count": expected[key]})
    if fix and rows:
        session.execute(insert(model), rows)  # one batch, however many keys (the city fill)
    forget_loaded(session, model)
