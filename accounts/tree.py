"""Reads of the organisation tree one level at a time, for a province's few thousand
organisations (the page /admin/organisations and GET /api/v1/organisations): a node's children
keyset-paged by (name, id), their numbers of children in one grouped query, the node's ancestors
from its path in one query, and a name search over the visible subtree, each hit with the names
above it. Who sees what is accounts.queries' rule (own subtree, plus the areas of running
contracts), tested as path prefixes of a few roots: no read here loads the whole tree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from accounts.models import ORG_KINDS, Organisation, User
from accounts.queries import scope_roots, under_any
from core.db import valid_id
from core.paging import (
    COUNT_CAP,
    Page,
    PageParams,
    PagingError,
    Sort,
    capped_count,
    choice_arg,
    literal_contains,
    paginate,
)

CANDIDATES = 20  # how many organisations a "choose one" list offers at most


@dataclass
class Level:
    """One level of the tree (or one page of a search) as the user may see it."""

    node: Organisation | None  # None: the user's roots (own organisation, contracted areas)
    page: Page  # items: Organisation, by (name, id)
    roots: list[Organisation]
    breadcrumb: list[Organisation] = field(default_factory=list)  # visible ancestors of node, then node
    child_counts: dict[int, int] = field(default_factory=dict)
    trails: dict[int, list[str]] = field(default_factory=dict)  # search hit id -> names above it
    count: tuple[int, bool] | None = None
    searching: bool = False


def is_visible(organisation: Organisation, roots: list[Organisation]) -> bool:
    return any(organisation.path.startswith(root.path) for root in roots)


def path_ids(path: str) -> list[int]:
    """The ids of a materialised path, top first: "/1/4/9/" -> [1, 4, 9]."""
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def level_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
               count_cap: int | None = COUNT_CAP) -> Level:
    """The children of `parent` (default: the user's roots), or with `q` the organisations whose
    name contains it (literally) in the visible subtree, or in `parent`'s subtree when given;
    filters `kind`, `active` (1/0) and `managed` (1: only the user's own subtree, the organisations
    an administrator may put users in: accounts.queries.managed_org_ids). A bad filter is a
    PagingError naming it. `count_cap=None` leaves the count out (the API answers without it)."""
    roots = scope_roots(session, user, managed=choice_arg(args, "managed", ("0", "1")) == "1")
    kind = choice_arg(args, "kind", tuple(ORG_KINDS))
    active = choice_arg(args, "active", ("0", "1"))
    q = " ".join(str(args.get("q") or "").split())
    node = None
    if args.get("parent") not in (None, ""):
        key = valid_id(args.get("parent"))
        node = session.get(Organisation, key) if key is not None else None
        if node is None or not is_visible(node, roots):
            raise PagingError("parent", "parent 应为您可查看的机构编号")
    if q:
        stmt = select(Organisation).where(under_any([node] if node else roots), literal_contains(Organisation.name, q))
    elif node is not None:
        stmt = select(Organisation).where(Organisation.parent_id == node.id)
    else:
        stmt = select(Organisation).where(Organisation.id.in_([r.id for r in roots]))  # type: ignore[union-attr]
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if active is not None:
        stmt = stmt.where(Organisation.is_active.is_(active == "1"))  # type: ignore[attr-defined]
    page = paginate(session, stmt, [Sort(Organisation.name), Sort(Organisation.id)], key=lambda o: (o.name, o.id),
                    params=params, scalars=True)
    level = Level(node=node, page=page, roots=roots, searching=bool(q),
                  child_counts=child_counts(session, [o.id for o in page.items]))
    if count_cap is not None:
        level.count = capped_count(session, stmt, count_cap)
    above = {o.id: path_ids(o.path)[:-1] for o in page.items} if q else {}
    names = _ancestors(session, roots, {i for ids in above.values() for i in ids} | set(path_ids(node.path)
                                                                                        if node else ()))
    if node is not None:
        level.breadcrumb = [names[i] for i in path_ids(node.path) if i in names]
    level.trails = {org_id: [names[i].name for i in ids if i in names] for org_id, ids in above.items()}
    return level


def child_counts(session: Session, ids: list[Any]) -> dict[int, int]:
    """How many children each of these organisations has (one grouped query; none: no query)."""
    if not ids:
        return {}
    rows = session.exec(select(Organisation.parent_id, func.count()).where(  # type: ignore[call-overload]
        Organisation.parent_id.in_(ids)).group_by(Organisation.parent_id))  # type: ignore[union-attr]
    return {parent_id: count for parent_id, count in rows}


def _ancestors(session: Session, roots: list[Organisation], ids: set[int]) -> dict[int, Organisation]:
    """These organisations by id, those the user may see only (one query; none: no query)."""
    if not ids:
        return {}
    rows = session.exec(select(Organisation).where(Organisation.id.in_(ids)))  # type: ignore[union-attr]
    return {o.id: o for o in rows if o.id is not None and is_visible(o, roots)}


def move_candidates(session: Session, organisation: Organisation, own: Organisation,
                    find: str = "") -> list[tuple[Organisation, list[str]]]:
    """Where an administrator may sensibly move `organisation` (or, the same places, contract an
    agency's area): managed (under `own`), active and outside its own subtree; the ancestors, the
    siblings of its parent, and with `find` up to CANDIDATES whose name contains it. Each with the
    names above it. A few queries and CANDIDATES rows at most, whatever the tree's size."""
    chain = path_ids(organisation.path)[:-1]
    allowed = [Organisation.path.startswith(own.path), Organisation.is_active.is_(True),  # type: ignore[attr-defined]
               ~Organisation.path.startswith(organisation.path)]  # type: ignore[attr-defined]
    found: dict[int, Organisation] = {}
    if chain:
        for org in session.exec(select(Organisation).where(Organisation.id.in_(chain), *allowed)):  # type: ignore[union-attr]
            found[org.id] = org  # type: ignore[index]
    grandparent = chain[-2] if len(chain) >= 2 else None
    extra = []
    if grandparent is not None:
        extra.append(select(Organisation).where(Organisation.parent_id == grandparent, *allowed))
    find = " ".join(find.split())
    if find:
        extra.append(select(Organisation).where(literal_contains(Organisation.name, find), *allowed))
    for stmt in extra:
        for org in session.exec(stmt.order_by(Organisation.name, Organisation.id).limit(CANDIDATES)):  # type: ignore[arg-type]
            found.setdefault(org.id, org)  # type: ignore[arg-type]
    names = _ancestors(session, [own], {i for o in found.values() for i in path_ids(o.path)[:-1]})
    ordered = sorted(found.values(), key=lambda o: (o.path.count("/"), o.name, o.id or 0))
    return [(o, [names[i].name for i in path_ids(o.path)[:-1] if i in names]) for o in ordered]
