"""Reads for accounts, and the one helper that scopes every query to the user's subtree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from flask import abort, g
from sqlalchemy import Select, false, literal, or_
from sqlmodel import Session, select

from accounts.models import Organisation, OrganisationContract, User
from core.db import valid_id
from core.i18n import N_
from core.paging import in_ids
from core.timeutil import utcnow

T = TypeVar("T")


def subtree_ids(session: Session, organisation_id: int) -> list[int]:
    """Ids of the organisation and everything below it."""
    org = session.get(Organisation, organisation_id)
    if org is None:
        return []
    rows = session.exec(select(Organisation.id).where(Organisation.path.startswith(org.path)))  # type: ignore[attr-defined]
    return [row for row in rows if row is not None]


def visible_org_ids(session: Session, user: User) -> list[int]:
    """Organisations the user may see: their own subtree and, for a third-party agency, the
    subtrees of the areas it holds a running contract for. Cached for the request."""
    cache = g.setdefault("visible_orgs", {}) if _in_request() else {}
    if user.id not in cache:
        ids = subtree_ids(session, user.organisation_id)
        for area in contracted_areas(session, user.organisation_id):
            ids += [i for i in subtree_ids(session, area) if i not in ids]
        cache[user.id] = ids
    return cache[user.id]  # type: ignore[no-any-return]


def managed_org_ids(session: Session, user: User) -> list[int]:
    """Organisations an administrator may change and put users in: their own subtree only, never
    contracted areas (an agency sees and works in those, it does not staff them). The one rule for
    every way a user is made or moved: the pages, the API and the bulk import."""
    return subtree_ids(session, user.organisation_id)


def visible_roots(session: Session, user: User) -> list[Organisation]:
    """The tops of what the user may see (visible_org_ids' rule, as subtrees): their own
    organisation and the areas of running contracts, none inside another, in path order. A few
    rows, so a level or a search is a prefix test on the path instead of thousands of ids."""
    ids = [user.organisation_id, *contracted_areas(session, user.organisation_id)]
    rows = session.exec(select(Organisation).where(Organisation.id.in_(ids))  # type: ignore[union-attr]
                        .order_by(Organisation.path))
    roots: list[Organisation] = []
    for org in rows:  # a path sorts before the paths below it
        if not any(org.path.startswith(root.path) for root in roots):
            roots.append(org)
    return roots


def scope_roots(session: Session, user: User, *, managed: bool = False) -> list[Organisation]:
    """visible_roots, or with `managed` the user's own organisation alone (managed_org_ids' rule)."""
    if not managed:
        return visible_roots(session, user)
    own = session.get(Organisation, user.organisation_id)
    return [own] if own is not None else []


def under_any(roots: list[Organisation]) -> Any:
    """SQL: the organisation lies in one of these subtrees (false for none)."""
    clauses = [Organisation.path.startswith(root.path) for root in roots]  # type: ignore[attr-defined]
    return or_(*clauses) if clauses else false()


def is_managed(session: Session, user: User, organisation: Organisation | None) -> bool:
    """`organisation` is in managed_org_ids (the user's own subtree), tested on its path alone."""
    own = session.get(Organisation, user.organisation_id)
    return organisation is not None and own is not None and organisation.path.startswith(own.path)


def contracted_areas(session: Session, agency_id: int, on: date | None = None) -> list[int]:
    """Organisations whose subtree the agency may work in today (running contracts)."""
    today = on or utcnow().date()
    rows = session.exec(select(OrganisationContract.organisation_id).where(
        OrganisationContract.agency_id == agency_id, OrganisationContract.ended_at.is_(None),  # type: ignore[union-attr]
        OrganisationContract.valid_from <= today,
        or_(OrganisationContract.valid_until.is_(None), OrganisationContract.valid_until >= today)))  # type: ignore[union-attr]
    return list(rows)


def _in_request() -> bool:
    from flask import has_app_context

    return has_app_context()


def scoped(statement: Select[Any], model: Any, session: Session, user: User) -> Select[Any]:
    """Restrict a select to rows whose organisation_id lies in the user's subtree."""
    return statement.where(in_ids(session, model.organisation_id, visible_org_ids(session, user)))


def get_scoped_or_404(session: Session, model: type[T], object_id: Any, user: User) -> T:
    """Load one row the user may see; another organisation's row is a 404, never a 403."""
    key = valid_id(object_id)
    if key is None:
        abort(404)
    obj = session.get(model, key)
    if obj is None or getattr(obj, "organisation_id", None) not in visible_org_ids(session, user):
        abort(404)
    return obj


def org_scope(session: Session, user: User, organisation: Any = None) -> list[int]:
    """The user's visible organisations, narrowed to one organisation's subtree when a list's
    `org` filter asks (anything else is a core.paging.PagingError naming `org`)."""
    from core.paging import PagingError

    visible = visible_org_ids(session, user)
    if organisation in (None, ""):
        return visible
    key = valid_id(organisation)
    if key is None or key not in visible:
        raise PagingError("org", "org 应为您可查看的机构编号")
    allowed = set(visible)
    return [org_id for org_id in subtree_ids(session, key) if org_id in allowed]


def users_page(session: Session, user: User, args: Mapping[str, Any], params: Any, *,
               count_cap: int | None = None) -> tuple[Any, tuple[int, bool]]:
    """Users of the visible organisations by username (then id), keyset-paged (core.paging) with
    a capped count. Filters: org (subtree), role (one of core.auth.ROLES), active (1 active, 0
    deactivated), q (username or name contains, literally)."""
    from core.auth import ROLES
    from core.paging import COUNT_CAP, Sort, capped_count, choice_arg, literal_contains, paginate

    stmt = select(User).where(in_ids(session, User.organisation_id, org_scope(session, user, args.get("org"))))  # type: ignore[attr-defined]
    role = choice_arg(args, "role", ROLES)
    if role:  # roles are stored space separated: match a whole word
        stmt = stmt.where((literal(" ") + User.roles + literal(" ")).contains(f" {role} ", autoescape=True))
    active = choice_arg(args, "active", ("0", "1"))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active == "1"))  # type: ignore[attr-defined]
    q = str(args.get("q") or "").strip()
    if q:
        stmt = stmt.where(or_(literal_contains(User.username, q), literal_contains(User.display_name, q)))
    page = paginate(session, stmt, [Sort(User.username), Sort(User.id)], key=lambda u: (u.username, u.id),
                    params=params, scalars=True)
    return page, capped_count(session, stmt, count_cap or COUNT_CAP)


class OrganisationNames:
    """The organisations a user may see (or, with `managed=True`, manage: managed_org_ids), found by
    name or id (for imports): loaded once, as (id, name, path) triples; a province has thousands,
    never millions."""

    def __init__(self, session: Session, user: User, *, managed: bool = False) -> None:
        ids = managed_org_ids(session, user) if managed else visible_org_ids(session, user)
        rows = session.exec(select(Organisation.id, Organisation.name, Organisation.path)  # type: ignore[call-overload]
                            .where(Organisation.id.in_(ids), Organisation.is_active.is_(True)))  # type: ignore[union-attr, attr-defined]
        self.paths: dict[int, str] = {}
        self.by_name: dict[str, list[int]] = {}
        for org_id, name, path in rows:
            self.paths[org_id] = path
            self.by_name.setdefault(name.strip(), []).append(org_id)
        self.default_id = user.organisation_id

    def find(self, text: str, *, within: int | None = None) -> tuple[int | None, str | None]:
        """(id, None) or (None, a Chinese reason): unknown, not unique, outside `within`."""
        text = text.strip()
        candidates = self.by_name.get(text, [])
        if not candidates and text.isdigit() and int(text) in self.paths:
            candidates = [int(text)]
        if within is not None:
            prefix = self.paths.get(within, "/")
            candidates = [c for c in candidates if self.paths[c].startswith(prefix)]
        if not candidates:
            return None, N_("找不到该机构（或不在您的管辖范围内）。")
        if len(candidates) > 1:
            return None, N_("有多个同名机构，请同时填写上级所属机构，或改填机构编号。")
        return candidates[0], None
