"""Writes for the organisation tree: create, rename, move, deactivate, and third-party agencies'
contracts over an area. Keyword-only, take the session, flush, never commit; every change is
audit-logged. Nothing here deletes: an organisation with records is deactivated instead."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlmodel import Session, select

from accounts.models import ORG_KINDS, Organisation, OrganisationContract, User
from audit import record_event
from core.db import bump_version
from core.errors import DomainError
from core.i18n import N_
from core.timeutil import utcnow

NAME_MAX = 200


class OrganisationError(DomainError, ValueError):
    """A refused change to the tree; `errors` lists every problem as {"item", "message"}."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 422) -> None:
        DomainError.__init__(self, None, status=status, code="conflict" if status == 409 else "invalid_input",
                             errors=errors)


def inactive_problem(session: Session, organisation_id: int | None) -> dict[str, Any] | None:
    """The problem to list when new users or records would go into a deactivated organisation."""
    org = session.get(Organisation, organisation_id) if organisation_id is not None else None
    if org is not None and not org.is_active:
        return {"item": "organisation_id", "message": _l("机构“%(name)s”已停用，不能再新增用户或记录", name=org.name)}
    return None


def lock_organisations(session: Session, *organisations: Organisation | None) -> None:
    """Serialise changes of the tree: take the row locks of these organisations and of their
    roots, in id order (a no-op UPDATE; PostgreSQL holds the lock until commit, SQLite has one
    writer anyway), then re-read them. A check made after this (no cycle, no active child, no
    active user) still holds at commit: two administrators moving two organisations under each
    other, or one deactivating what the other adds to, never both win."""
    present = [o for o in organisations if o is not None and o.id is not None]
    ids = {o.id for o in present} | {int(o.path.strip("/").split("/")[0]) for o in present if o.path.strip("/")}
    for org_id in sorted(i for i in ids if i is not None):
        session.execute(update(Organisation).where(Organisation.id == org_id)  # type: ignore[arg-type]
                        .values(version=Organisation.version).execution_options(synchronize_session=False))
    for org in present:
        session.refresh(org)


def _clean_name(name: Any) -> str | None:
    if not isinstance(name, str):
        return None
    cleaned = " ".join(name.split())
    return cleaned if 0 < len(cleaned) <= NAME_MAX else None


def _sibling_named(session: Session, parent_id: int | None, name: str, but: int | None = None) -> bool:
    stmt = select(Organisation.id).where(Organisation.name == name, Organisation.parent_id == parent_id)
    if but is not None:
        stmt = stmt.where(Organisation.id != but)
    return session.exec(stmt).first() is not None


def create_organisation(*, session: Session, name: str, kind: str, parent: Organisation | None = None,
                        actor: User | None = None) -> Organisation:
    """Add an organisation under `parent` (or as a root) and set its subtree path."""
    lock_organisations(session, parent)
    problems = []
    clean = _clean_name(name)
    if clean is None:
        problems.append({"item": "name", "message": N_("名称需要 1 到 200 个字符")})
    if kind not in ORG_KINDS:
        problems.append({"item": "kind", "message": N_("未知的机构类型")})
    if parent is not None and not parent.is_active:
        problems.append({"item": "parent_id", "message": N_("上级机构已停用，不能在其下新建机构")})
    if clean and _sibling_named(session, parent.id if parent else None, clean):
        problems.append({"item": "name", "message": N_("同一上级下已有同名机构")})
    if problems:
        raise OrganisationError(problems)
    org = Organisation(name=clean or "", kind=kind, parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.flush()
    record_event(session=session, action="organisation.create", target=org, actor=actor,
                 changes={"new": {"name": org.name, "kind": kind, "parent_id": org.parent_id}})
    return org


def update_organisation(*, session: Session, actor: User | None, organisation: Organisation,
                        version: int | None = None, name: Any = None, kind: Any = None,
                        parent: Organisation | None = None, move: bool = False,
                        is_active: Any = None) -> Organisation:
    """Rename, re-kind, move (with its whole subtree) or (de)activate one organisation."""
    if move or is_active is not None:
        lock_organisations(session, organisation, parent)
    problems: list[dict[str, Any]] = []
    changes: dict[str, Any] = {}
    new_name = organisation.name
    if name is not None:
        new_name = _clean_name(name) or ""
        if not new_name:
            problems.append({"item": "name", "message": N_("名称需要 1 到 200 个字符")})
    if kind is not None and kind not in ORG_KINDS:
        problems.append({"item": "kind", "message": N_("未知的机构类型")})
    new_parent_id = organisation.parent_id
    if move:
        new_parent_id = parent.id if parent else None
        if parent is not None and parent.path.startswith(organisation.path):
            problems.append({"item": "parent_id", "message": N_("不能把机构移到它自己或它的下级机构之下")})
        elif parent is not None and not parent.is_active:
            problems.append({"item": "parent_id", "message": N_("上级机构已停用")})
    if new_name and (new_name != organisation.name or new_parent_id != organisation.parent_id) and \
            _sibling_named(session, new_parent_id, new_name, but=organisation.id):
        problems.append({"item": "name", "message": N_("同一上级下已有同名机构")})
    if is_active is not None and not isinstance(is_active, bool):
        problems.append({"item": "is_active", "message": N_("is_active 应为 true 或 false")})
    elif is_active is False and organisation.is_active:
        problems += _deactivation_problems(session, organisation)
    if problems:
        raise OrganisationError(problems)
    bump_version(session, organisation, version)
    if new_name != organisation.name:
        changes["name"] = {"old": organisation.name, "new": new_name}
        organisation.name = new_name
    if kind is not None and kind != organisation.kind:
        changes["kind"] = {"old": organisation.kind, "new": kind}
        organisation.kind = kind
    if move and new_parent_id != organisation.parent_id:
        changes["parent_id"] = {"old": organisation.parent_id, "new": new_parent_id}
        _move_subtree(session, organisation, parent)
    if is_active is not None and is_active != organisation.is_active:
        changes["is_active"] = {"old": organisation.is_active, "new": is_active}
        organisation.is_active = is_active
    session.add(organisation)
    session.flush()
    record_event(session=session, action="organisation.update", target=organisation, actor=actor, changes=changes)
    return organisation


def _deactivation_problems(session: Session, organisation: Organisation) -> list[dict[str, Any]]:
    problems = []
    children = session.exec(select(func.count()).select_from(Organisation).where(
        Organisation.parent_id == organisation.id, Organisation.is_active)).one()
    if children:
        problems.append({"item": "is_active", "message": N_("请先停用它的下级机构")})
    users = session.exec(select(func.count()).select_from(User).where(
        User.organisation_id == organisation.id, User.is_active)).one()
    if users:
        problems.append({"item": "is_active", "message": N_("请先停用或调走它的用户")})
    return problems


def _move_subtree(session: Session, organisation: Organisation, parent: Organisation | None) -> None:
    old_prefix = organisation.path
    new_prefix = f"{parent.path if parent else '/'}{organisation.id}/"
    # One statement re-paths the whole subtree; a subtree is every path with the old prefix.
    session.execute(
        update(Organisation)
        .where(Organisation.path.startswith(old_prefix))  # type: ignore[attr-defined]
        .values(path=new_prefix + func.substr(Organisation.path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False)
    )
    organisation.parent_id = parent.id if parent else None
    session.flush()
    session.expire_all()


def grant_contract(*, session: Session, actor: User | None, agency: Organisation, organisation: Organisation,
                   valid_from: date | None = None, valid_until: date | None = None) -> OrganisationContract:
    """Let a third-party agency see and assess an area's records from `valid_from` to `valid_until`."""
    problems = []
    if agency.kind != "agency":
        problems.append({"item": "agency_id", "message": N_("只有第三方评估机构可以签约")})
    if organisation.path.startswith(agency.path) or agency.path.startswith(organisation.path):
        problems.append({"item": "organisation_id", "message": N_("签约区域不能是该机构自己或它的上下级")})
    start = valid_from or utcnow().date()
    if valid_until is not None and valid_until < start:
        problems.append({"item": "valid_until", "message": N_("结束日期早于开始日期")})
    if problems:
        raise OrganisationError(problems)
    contract = OrganisationContract(agency_id=agency.id, organisation_id=organisation.id,  # type: ignore[arg-type]
                                    valid_from=start, valid_until=valid_until)
    session.add(contract)
    session.flush()
    record_event(session=session, action="organisation.contract", target=agency, actor=actor,
                 changes={"new": {"contract_id": contract.id, "organisation_id": organisation.id,
                                  "valid_from": start.isoformat(),
                                  "valid_until": valid_until.isoformat() if valid_until else None}})
    return contract


def end_contract(*, session: Session, actor: User | None, contract: OrganisationContract) -> None:
    """End a contract now: the agency no longer sees the area."""
    if contract.ended_at is not None:
        raise OrganisationError([{"item": "contract_id", "message": N_("合同已结束")}], status=409)
    contract.ended_at = utcnow()
    session.add(contract)
    session.flush()
    record_event(session=session, action="organisation.contract_end", target_type="organisation",
                 target_id=str(contract.agency_id), actor=actor,
                 changes={"contract_id": contract.id, "organisation_id": contract.organisation_id})
