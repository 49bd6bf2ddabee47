"""The bureau's administration API: the organisation tree, agencies' contracts and users.
Routes under /api/v1 (see core.api); administrators only, and only inside their own subtree."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from sqlmodel import select

from accounts import operations as ops
from accounts import organisations as orgs
from accounts.models import ORG_KINDS, Organisation, OrganisationContract, User
from accounts.queries import is_managed, users_page
from accounts.tree import level_page
from core.api import ApiError, api_route, date_field, json_body, require_fields
from core.auth import ROLES, current_actor
from core.db import EditConflict, get_session, valid_id
from core.paging import PagingError, page_params, query_params

KINDS = sorted(ORG_KINDS)
ORG_PUBLIC = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
                   "kind_label": {"type": "string"}, "parent_id": {"type": "integer", "nullable": True},
                   "is_active": {"type": "boolean"}, "version": {"type": "integer"}},
}
ORG_CREATE = {
    "type": "object", "required": ["name", "kind"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                   "kind": {"type": "string", "enum": KINDS},
                   "parent_id": {"type": "integer", "nullable": True}},
}
ORG_PATCH = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                   "kind": {"type": "string", "enum": KINDS},
                   "parent_id": {"type": "integer", "nullable": True},
                   "is_active": {"type": "boolean"}, "version": {"type": "integer"}},
}
CONTRACT_CREATE = {
    "type": "object", "required": ["organisation_id"],
    "properties": {"organisation_id": {"type": "integer"}, "valid_from": {"type": "string", "format": "date"},
                   "valid_until": {"type": "string", "format": "date", "nullable": True}},
}
CONTRACT_PUBLIC = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "agency_id": {"type": "integer"}, "organisation_id": {"type": "integer"},
                   "valid_from": {"type": "string"}, "valid_until": {"type": "string", "nullable": True},
                   "ended": {"type": "boolean"}},
}
USER_CREATE = {
    "type": "object", "required": ["username", "organisation_id", "roles", "password"],
    "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 80},
                   "organisation_id": {"type": "integer"},
                   "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
                   "password": {"type": "string"}, "display_name": {"type": "string", "maxLength": 120}},
}
USER_PUBLIC = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
                   "organisation_id": {"type": "integer"}, "roles": {"type": "array", "items": {"type": "string"}},
                   "is_active": {"type": "boolean"}, "must_change_password": {"type": "boolean"},
                   "version": {"type": "integer"}},
}


def org_public(org: Organisation, kind_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """`kind_labels`: the kinds already translated, when a list is answered (one catalogue lookup
    per list, not per organisation)."""
    label = kind_labels.get(org.kind, org.kind) if kind_labels is not None else _(ORG_KINDS.get(org.kind, org.kind))
    return {"id": org.id, "name": org.name, "kind": org.kind, "kind_label": label,
            "parent_id": org.parent_id, "is_active": org.is_active, "version": org.version}


def _refused(error: orgs.OrganisationError) -> ApiError:
    errors = [{"item": e["item"], "message": _(e["message"])} for e in error.errors]
    return ApiError(error.status, "invalid_input" if error.status == 422 else "conflict",
                    "；".join(e["message"] for e in errors), errors)


def managed_organisation(org_id: Any, item: str) -> Organisation:
    """An organisation the caller administers, or a 422 naming the field (404 for the path id)."""
    db, user = get_session(), current_actor()
    key = valid_id(org_id)
    org = db.get(Organisation, key) if key is not None else None
    if org is None or not is_managed(db, user, org):
        if item == "id":
            raise ApiError(404, "not_found", _("不存在或无权查看。"))
        raise ApiError(422, "invalid_input", _("上级机构不存在或不在您管理的范围内"),
                       [{"item": item, "message": _("不存在或不在您管理的范围内")}])
    return org


ORG_QUERY = [{"name": "parent", "in": "query", "required": False, "schema": {"type": "integer"},
              "description": "上级机构编号：列出它的直接下级（不填：我能看到的最上级机构，即本机构和签约区域）；"
                             "与 q 同用时在它及其下级中查找 / parent id: its direct children (default: my visible "
                             "roots); with q, search its subtree"},
             {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
              "description": "名称包含（在可见范围内查找，按字面匹配）/ name contains, anywhere I may see"},
             {"name": "kind", "in": "query", "required": False, "schema": {"type": "string", "enum": KINDS},
              "description": "类型 / kind"},
             {"name": "active", "in": "query", "required": False, "schema": {"type": "string", "enum": ["0", "1"]},
              "description": "1：启用；0：停用 / 1: active, 0: deactivated"},
             {"name": "managed", "in": "query", "required": False, "schema": {"type": "string", "enum": ["0", "1"]},
              "description": "1：只要本机构及其下级（可在其中建用户的机构，不含签约区域）/ 1: my own subtree only "
                             "(where users may be placed; no contracted areas)"}]
ORG_LISTED = {"type": "object", "properties": {
    **ORG_PUBLIC["properties"], "child_count": {"type": "integer", "description": "直接下级的数目 / direct children"},
    "has_children": {"type": "boolean"},
    "trail": {"type": "array", "items": {"type": "string"},
              "description": "按名称查找（q）时：其上级机构的名称，自上而下 / with q: the names above it, top first"}}}


@api_route("/organisations", methods=["GET"], roles=(), query=ORG_QUERY + query_params("cursor", "limit"),
           summary="可见的机构，一次一层：某机构的直接下级或按名称查找，按名称排序；分页 / the organisations I may "
                   "see, one level at a time (parent) or found by name (q), by name; paged (cursor, limit 1-500, "
                   "default 50)",
           responses={200: {"type": "object", "properties": {"items": {"type": "array", "items": ORG_LISTED},
                                                             "next_cursor": {"type": ["string", "null"]}}}})
def list_organisations() -> Any:
    db = get_session()
    try:
        level = level_page(db, current_actor(), request.args, page_params(request.args), count_cap=None)
    except PagingError as error:
        raise ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}]) from None
    labels = {kind: _(label) for kind, label in ORG_KINDS.items()}
    items = [{**org_public(o, labels), "child_count": level.child_counts.get(o.id, 0),  # type: ignore[arg-type]
              "has_children": o.id in level.child_counts,
              **({"trail": level.trails.get(o.id, [])} if level.searching else {})} for o in level.page.items]
    return jsonify({"items": items, "next_cursor": level.page.next_cursor})


@api_route("/organisations", methods=["POST"], roles=("admin",), summary="新建机构 / create an organisation",
           body=ORG_CREATE, responses={201: ORG_PUBLIC, 409: {"type": "object"}})
def create_organisation() -> Any:
    data = json_body()
    require_fields(data, {"name", "kind", "parent_id"}, {"name", "kind"})
    db, user = get_session(), current_actor()
    parent = None
    if data.get("parent_id") is not None:
        parent = managed_organisation(data["parent_id"], "parent_id")
    elif db.get(Organisation, user.organisation_id).parent_id is not None:  # type: ignore[union-attr]
        raise ApiError(422, "invalid_input", _("只有最上级机构的管理员可以新建顶级机构，请指定上级机构"),
                       [{"item": "parent_id", "message": _("请指定上级机构")}])
    try:
        org = orgs.create_organisation(session=db, name=data["name"], kind=data["kind"], parent=parent, actor=user)
    except orgs.OrganisationError as error:
        raise _refused(error) from None
    return jsonify(org_public(org)), 201


@api_route("/organisations/<int:organisation_id>", methods=["PATCH"], roles=("admin",),
           summary="改名、移动、停用机构 / rename, move or deactivate an organisation",
           body=ORG_PATCH, responses={200: ORG_PUBLIC, 409: {"type": "object"}})
def update_organisation(organisation_id: int) -> Any:
    data = json_body()
    require_fields(data, {"name", "kind", "parent_id", "is_active", "version"}, set())
    db, user = get_session(), current_actor()
    org = managed_organisation(organisation_id, "id")
    if org.id == user.organisation_id and ("parent_id" in data or data.get("is_active") is False):
        raise ApiError(422, "invalid_input", _("不能移动或停用自己所在的机构"),
                       [{"item": "parent_id" if "parent_id" in data else "is_active",
                         "message": _("不能移动或停用自己所在的机构")}])
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ApiError(422, "invalid_input", _("version 应为整数"), [{"item": "version", "message": _("应为整数")}])
    parent = None
    if data.get("parent_id") is not None:
        parent = managed_organisation(data["parent_id"], "parent_id")
    try:
        orgs.update_organisation(session=db, actor=user, organisation=org, version=version, name=data.get("name"),
                                 kind=data.get("kind"), parent=parent, move="parent_id" in data,
                                 is_active=data.get("is_active"))
    except orgs.OrganisationError as error:
        raise _refused(error) from None
    except EditConflict as conflict:
        raise ApiError(409, "conflict", _("机构刚被其他人修改过，请刷新后再试。"),
                       [{"item": "version", "message": str(conflict.current_version)}]) from None
    return jsonify(org_public(db.get(Organisation, org.id)))  # type: ignore[arg-type]


def _contract_public(contract: OrganisationContract) -> dict[str, Any]:
    return {"id": contract.id, "agency_id": contract.agency_id, "organisation_id": contract.organisation_id,
            "valid_from": contract.valid_from.isoformat(),
            "valid_until": contract.valid_until.isoformat() if contract.valid_until else None,
            "ended": contract.ended_at is not None}


@api_route("/organisations/<int:organisation_id>/contracts", methods=["GET"], roles=("admin",),
           summary="第三方机构的签约区域 / an agency's contracts",
           responses={200: {"type": "object", "properties": {"items": {"type": "array", "items": CONTRACT_PUBLIC}}}})
def list_contracts(organisation_id: int) -> Any:
    agency = managed_organisation(organisation_id, "id")
    rows = get_session().exec(select(OrganisationContract).where(OrganisationContract.agency_id == agency.id)
                              .order_by(OrganisationContract.id))  # type: ignore[arg-type]
    return jsonify({"items": [_contract_public(c) for c in rows]})


@api_route("/organisations/<int:organisation_id>/contracts", methods=["POST"], roles=("admin",),
           summary="给第三方机构签约区域 / let an agency work in an area", body=CONTRACT_CREATE,
           responses={201: CONTRACT_PUBLIC})
def create_contract(organisation_id: int) -> Any:
    data = json_body()
    require_fields(data, {"organisation_id", "valid_from", "valid_until"}, {"organisation_id"})
    db, user = get_session(), current_actor()
    agency = managed_organisation(organisation_id, "id")
    area = managed_organisation(data["organisation_id"], "organisation_id")
    try:
        contract = orgs.grant_contract(session=db, actor=user, agency=agency, organisation=area,
                                       valid_from=date_field(data.get("valid_from"), "valid_from"),
                                       valid_until=date_field(data.get("valid_until"), "valid_until"))
    except orgs.OrganisationError as error:
        raise _refused(error) from None
    return jsonify(_contract_public(contract)), 201


@api_route("/organisations/<int:organisation_id>/contracts/<int:contract_id>", methods=["DELETE"],
           roles=("admin",), summary="结束签约 / end a contract", responses={200: CONTRACT_PUBLIC, 409: {"type": "object"}})
def end_contract(organisation_id: int, contract_id: int) -> Any:
    db, user = get_session(), current_actor()
    agency = managed_organisation(organisation_id, "id")
    contract = db.get(OrganisationContract, contract_id)
    if contract is None or contract.agency_id != agency.id:
        raise ApiError(404, "not_found", _("不存在或无权查看。"))
    try:
        orgs.end_contract(session=db, actor=user, contract=contract)
    except orgs.OrganisationError as error:
        raise _refused(error) from None
    return jsonify(_contract_public(contract))


def user_public(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "organisation_id": user.organisation_id, "roles": sorted(user.role_set), "is_active": user.is_active,
            "must_change_password": user.must_change_password, "version": user.version}


@api_route("/users", methods=["POST"], roles=("admin",), summary="新建用户 / create a user", body=USER_CREATE,
           responses={201: USER_PUBLIC})
def create_user() -> Any:
    data = json_body()
    require_fields(data, {"username", "organisation_id", "roles", "password", "display_name"},
                   {"username", "organisation_id", "roles", "password"})
    db, actor = get_session(), current_actor()
    problems = []
    for name in ("username", "password"):
        if not isinstance(data[name], str):
            problems.append({"item": name, "message": _("应为字符串")})
    roles = data["roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles) or not roles:
        problems.append({"item": "roles", "message": _("应为角色列表，至少一个")})
    display_name = data.get("display_name", "")
    if not isinstance(display_name, str) or len(display_name) > 120:
        problems.append({"item": "display_name", "message": _("姓名最多 120 个字符")})
    if problems:
        raise ApiError(422, "invalid_input", _("输入有误"), problems)
    org = managed_organisation(data["organisation_id"], "organisation_id")
    try:
        user = ops.create_user(session=db, username=data["username"].strip(), password=data["password"],
                               organisation=org, roles=roles, display_name=display_name, actor=actor)
    except ops.AccountError as error:
        raise ApiError(422, "invalid_input", "；".join(error.problems), error.public_errors()) from None
    return jsonify(user_public(user)), 201


USER_QUERY = [{"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
               "description": "用户名或姓名包含 / username or name contains"},
              {"name": "role", "in": "query", "required": False, "schema": {"type": "string", "enum": list(ROLES)},
               "description": "角色 / role"},
              {"name": "active", "in": "query", "required": False, "schema": {"type": "string", "enum": ["0", "1"]},
               "description": "1：启用；0：停用 / 1: active, 0: deactivated"},
             {"name": "managed", "in": "query", "required": False, "schema": {"type": "string", "enum": ["0", "1"]},
              "description": "1：只要本机构及其下级（可在其中建用户的机构，不含签约区域）/ 1: my own subtree only "
                             "(where users may be placed; no contracted areas)"}]


@api_route("/users", methods=["GET"], roles=("admin",), query=USER_QUERY + query_params("org", "cursor", "limit"),
           summary="我管理的用户：按用户名排序，机构（含下级）、角色、状态、用户名或姓名；分页 / users, filtered and paged"
                   " (cursor, limit 1-500, default 50)",
           responses={200: {"type": "object", "properties": {"items": {"type": "array", "items": USER_PUBLIC},
                                                             "next_cursor": {"type": ["string", "null"]}}}})
def list_users() -> Any:
    try:
        page, _count = users_page(get_session(), current_actor(), request.args, page_params(request.args))
    except PagingError as error:
        raise ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}]) from None
    return jsonify({"items": [user_public(u) for u in page.items], "next_cursor": page.next_cursor})
