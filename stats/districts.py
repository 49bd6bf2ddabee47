"""The "district" of the statistics: the unit each figure is broken down by.

Definition (docs/statistics.md#district): the scope is the organisations the caller may see
(accounts.queries.visible_org_ids), narrowed to one subtree by the `org` filter. Its tops are
the organisations in it whose parent is not (one, or more for an agency with contracts). Below
each top the breakdown level is the one under the top's kind:

    bureau, province, city     → district (区/县)
    district                   → street (街道/乡镇)
    street                     → community (社区/村)
    community, agency, operator → the organisation itself

A record belongs to the nearest organisation of that kind on its organisation's path (its own
organisation or an ancestor). A record whose organisation lies above every unit (for example
one kept by the city itself) is counted in a row of its own organisation, marked "本级" (own
level); such a row has no list link, because a list's `org` filter takes the whole subtree.

Counts are grouped by organisation_id in SQL (a few thousand groups at most) and folded into
units here, so the same definition serves every figure and both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from accounts.models import Organisation
from core.paging import in_ids

BREAKDOWN = {"bureau": "district", "province": "district", "city": "district", "district": "street",
             "street": "community"}


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    is_own_level: bool = False  # records kept by an organisation above every unit (no list link)


@dataclass
class Units:
    kind: str | None  # the breakdown kind, None when units are the organisations themselves
    of_org: dict[int, Unit]  # organisation id → its unit

    def fold(self, rows: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        """Sum (organisation_id, *keys, count) rows into (unit id, *keys) → count."""
        out: dict[tuple[Any, ...], int] = {}
        for org_id, *keys, count in rows:
            unit = self.of_org.get(org_id)
            if unit is None:
                continue
            key = (unit.id, *keys)
            out[key] = out.get(key, 0) + int(count)
        return out

    @property
    def by_id(self) -> Mapping[int, Unit]:
        return {unit.id: unit for unit in self.of_org.values()}


def units_for(session: Session, org_ids: list[int]) -> Units:
    """Each organisation of the scope and the unit it is counted under (see the module doc)."""
    if not org_ids:
        return Units(None, {})
    rows = list(session.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.path,
                                       Organisation.parent_id)
                                .where(in_ids(session, Organisation.id, org_ids))))  # type: ignore[union-attr]
    by_id = {row.id: row for row in rows}
    # The scope's tops: an agency sees its own subtree and its contracted areas, each a tree.
    tops = {row.id: BREAKDOWN.get(row.kind) for row in rows if row.parent_id not in by_id}
    of_org: dict[int, Unit] = {}
    for row in rows:
        chain = [int(p) for p in row.path.strip("/").split("/") if p]
        top = next((a for a in chain if a in tops), row.id)
        kind = tops.get(top)
        if kind is None:
            of_org[row.id] = Unit(row.id, row.name)
            continue
        found = next((by_id[a] for a in reversed(chain) if a in by_id and by_id[a].kind == kind), None)
        of_org[row.id] = Unit(found.id, found.name) if found is not None else Unit(row.id, row.name, True)
    first = min(rows, key=lambda r: (r.path.count("/"), r.id))
    return Units(BREAKDOWN.get(first.kind), of_org)
