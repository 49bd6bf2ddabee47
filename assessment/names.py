"""Name search through the characters and pairs of characters of names, in the elder list's
order, served by one index on PostgreSQL and SQLite alike.

pg_trgm cannot narrow `王` or `秀英` (a trigram needs three characters), and the elder list's name
index, walked in order with `ILIKE '%王%'` as a filter, reads every name that sorts before the
first 王 (330–780 ms at 100,000 elders, more with each elder added). Table elder_name_gram holds
each character and each pair of neighbouring characters of every name, in lower case, with the
name and the elder's id; its primary key (gram, name, elder_id) lists the elders whose name
contains a one- or two-character text already in the list's order (name, id), so a page reads
51 index entries after the cursor whatever the text. Three characters or more go
the same way through their first two characters, with `ILIKE` on the whole text as well (which
the planner may serve from the trigram index instead): without the gram walk it misjudged
`ILIKE '%王秀英%'` as common and walked the name index in order through 99,922 rows (1 s).

Each gram row also carries the elder's organisation, so a district assessor's search and its
capped count walk (gram, organisation_id, name, elder_id) for the district's organisations only:
through the primary key alone, a district holding one twelfth of a million elders read twelve
gram rows for each of its own (the count of `秀英` took 270 ms).

Every write of a name or of an elder's organisation writes its grams in the same transaction:
register_elder and update_elder (index_name), the bulk import and the city fill (gram_rows);
`yiyang repair-state` rebuilds them (rebuild_name_grams) and reports each elder whose grams had
drifted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from assessment.models import Elder, ElderNameGram

MAX_GRAM = 2


def name_grams(name: str) -> set[str]:
    """The characters and neighbouring pairs of `name` in lower case."""
    text = name.lower()
    return {*text, *(text[i:i + MAX_GRAM] for i in range(len(text) - 1))}


def search_gram(q: str) -> tuple[str, bool]:
    """(the gram to walk, whether the name must still be matched against the whole text): `q`
    itself when one or two characters (lower case; exact), else its first two characters, which
    every matching name contains too (the first pair is the rarer one in Chinese names: surname
    and first given character, 王秀, against the common given names, 秀英)."""
    text = q.lower()
    return text[:MAX_GRAM], len(text) > MAX_GRAM


def gram_rows(elder_id: int, name: str, organisation_id: int) -> list[dict[str, Any]]:
    return [{"gram": gram, "name": name, "elder_id": elder_id, "organisation_id": organisation_id}
            for gram in sorted(name_grams(name))]


def index_name(session: Session, elder: Elder) -> None:
    """Write the grams of the elder's current name and organisation (after a registration or an
    edit)."""
    assert elder.id is not None
    session.flush()
    session.execute(delete(ElderNameGram).where(ElderNameGram.elder_id == elder.id))  # type: ignore[arg-type]
    rows = gram_rows(elder.id, elder.name, elder.organisation_id)
    if rows:
        session.execute(insert(ElderNameGram), rows)


def insert_grams(session: Any, names: Iterable[tuple[int, int, str]]) -> None:
    """The grams of freshly inserted elders ((id, organisation id, name)), in one statement."""
    rows = [row for elder_id, organisation_id, name in names for row in gram_rows(elder_id, name, organisation_id)]
    if rows:
        session.execute(insert(ElderNameGram.__table__), rows)  # type: ignore[attr-defined]


def rebuild_name_grams(session: Any, *, fix: bool = True, batch: int = 2000) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (elder id, {"grams": (stored count, expected count)}) for each elder whose stored
    grams differ from its name (repair-state prints them like a state row's drift; the name is
    not printed) and, when `fix`, write them again; reads `batch` elders at a time by id."""
    last = 0
    while True:
        elders = session.execute(select(Elder.id, Elder.organisation_id, Elder.name)
                                 .where(Elder.id > last)  # type: ignore[operator]
                                 .order_by(Elder.id).limit(batch)).all()
        if not elders:
            return
        ids = [elder_id for elder_id, _org, _name in elders]
        stored: dict[int, set[tuple[str, str, int]]] = {elder_id: set() for elder_id in ids}
        for gram, name, organisation_id, elder_id in session.execute(
                select(ElderNameGram.gram, ElderNameGram.name, ElderNameGram.organisation_id, ElderNameGram.elder_id)
                .where(ElderNameGram.elder_id.in_(ids))):  # type: ignore[attr-defined]
            stored[elder_id].add((gram, name, organisation_id))
        drifted = []
        for elder_id, organisation_id, name in elders:
            expected = {(gram, name, organisation_id) for gram in name_grams(name)}
            if stored[elder_id] != expected:
                drifted.append((elder_id, organisation_id, name))
                yield elder_id, {"grams": (len(stored[elder_id]), len(expected))}
        if fix and drifted:
            session.execute(delete(ElderNameGram).where(
                ElderNameGram.elder_id.in_([elder_id for elder_id, _org, _name in drifted])))  # type: ignore[attr-defined]
            insert_grams(session, drifted)
        last = ids[-1]
