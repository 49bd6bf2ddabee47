"""The administrator's user API beyond creating them: reset a password, change roles, deactivate,
record assessor qualifications. Administrators only, and only for users in their own subtree."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify
from flask_babel import gettext as _

from accounts import operations as ops
from accounts import qualifications as quals
from accounts.admin_api import USER_PUBLIC, managed_organisation, user_public
from accounts.models import AssessorQualification, User
from accounts.queries import managed_org_ids
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import ROLES, current_actor
from core.db import EditConflict, get_session, valid_id
from core.idempotency import answer_holds_secret
from core.timeutil import local_today

RESET_BODY = {
    "type": "object",
    "properties": {"password": {"type": "string", "description": "留空则自动生成 / generated when absent"},
                   "version": {"type": "integer"}},
    "additionalProperties": False,
}
RESET_RESPONSE = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                   "password": {"type": "string", "description": "临时密码，只返回这一次 / shown once"},
                   "generated": {"type": "boolean"}, "must_change_password": {"type": "boolean"},
                   "version": {"type": "integer"}},
}


def managed_user(user_id: Any) -> User:
    """A user the caller administers; anyone else is a 404."""
    db, actor = get_session(), current_actor()
    key = valid_id(user_id)
    user = db.get(User, key) if key is not None else None
    if user is None or user.organisation_id not in managed_org_ids(db, actor):
        raise ApiError(404, "not_found", _("不存在或无权查看。"))
    return user


def conflict_error(conflict: EditConflict) -> ApiError:
    return ApiError(409, "conflict", _("用户刚被其他管理员修改过，请刷新后再试。"),
                    [{"item": "version", "message": str(conflict.current_version)}])


def version_field(data: dict[str, Any]) -> int | None:
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ApiError(422, "invalid_input", _("version 应为整数"), [{"item": "version", "message": _("应为整数")}])
    return version


@api_route("/users/<int:user_id>/reset-password", methods=["POST"], roles=("admin",), body=RESET_BODY,
           summary="重置密码：临时密码只显示一次，令牌全部失效 / reset a password (shown once; tokens end)",
           responses={200: RESET_RESPONSE, 409: {"type": "object"}})
def reset_password(user_id: int) -> Any:
    data = json_body()
    require_fields(data, {"password", "version"}, set())
    given = data.get("password")
    if given is not None and not isinstance(given, str):
        raise ApiError(422, "invalid_input", _("应为字符串"), [{"item": "password", "message": _("应为字符串")}])
    version = version_field(data)
    user = managed_user(user_id)
    try:
        password = ops.reset_password(session=get_session(), user=user, actor=current_actor(),
                                      new_password=given or None, version=version)
    except ops.AccountError as error:
        raise ApiError(422, "invalid_input", "；".join(error.problems),
                       [{"item": "password", "message": p} for p in error.problems]) from None
    except EditConflict as conflict:
        raise conflict_error(conflict) from None
    answer_holds_secret()  # an Idempotency-Key never keeps the temporary password
    return jsonify({**user_public(user), "password": password, "generated": not given,
                    "must_change_password": True})


USER_PATCH = {
    "type": "object",
    "properties": {"roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
                   "is_active": {"type": "boolean"}, "display_name": {"type": "string", "maxLength": 120},
                   "organisation_id": {"type": "integer"}, "version": {"type": "integer"}},
    "additionalProperties": False,
}


@api_route("/users/<int:user_id>", methods=["GET"], roles=("admin",), summary="一个用户 / one user",
           responses={200: USER_PUBLIC})
def get_user(user_id: int) -> Any:
    return jsonify(user_public(managed_user(user_id)))


@api_route("/users/<int:user_id>", methods=["PATCH"], roles=("admin",), body=USER_PATCH,
           summary="改角色、姓名、机构，停用或启用用户（停用后令牌失效）/ change roles, name, organisation; "
                   "deactivate or activate",
           responses={200: USER_PUBLIC, 409: {"type": "object"}})
def update_user(user_id: int) -> Any:
    data = json_body()
    require_fields(data, {"roles", "is_active", "display_name", "organisation_id", "version"}, set())
    problems = []
    roles = data.get("roles")
    if roles is not None and (not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)):
        problems.append({"item": "roles", "message": _("应为角色列表，至少一个")})
    if "is_active" in data and not isinstance(data["is_active"], bool):
        problems.append({"item": "is_active", "message": _("应为 true 或 false")})
    name = data.get("display_name")
    if name is not None and (not isinstance(name, str) or len(name) > 120):
        problems.append({"item": "display_name", "message": _("姓名最多 120 个字符")})
    if problems:
        raise ApiError(422, "invalid_input", _("输入有误"), problems)
    version = version_field(data)
    user = managed_user(user_id)
    organisation = None
    if data.get("organisation_id") is not None:
        organisation = managed_organisation(data["organisation_id"], "organisation_id")
    try:
        ops.update_user(session=get_session(), user=user, actor=current_actor(), version=version, roles=roles,
                        is_active=data.get("is_active"), display_name=name, organisation=organisation)
    except ops.AccountError as error:
        raise ApiError(422, "invalid_input", "；".join(error.problems),
                       [{"item": None, "message": p} for p in error.problems]) from None
    except EditConflict as conflict:
        raise conflict_error(conflict) from None
    return jsonify(user_public(user))


QUALIFICATION_BODY = {
    "type": "object", "required": ["certificate_number", "issuer", "valid_until"],
    "properties": {"certificate_number": {"type": "string", "minLength": 1, "maxLength": 100},
                   "issuer": {"type": "string", "minLength": 1, "maxLength": 200},
                   "valid_until": {"type": "string", "format": "date"},
                   "note": {"type": "string", "maxLength": 1000}},
    "additionalProperties": False,
}
QUALIFICATION_PATCH = {
    "type": "object",
    "properties": {**QUALIFICATION_BODY["properties"], "version": {"type": "integer"}},  # type: ignore[dict-item]
    "additionalProperties": False,
}
QUALIFICATION_PUBLIC = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "user_id": {"type": "integer"},
                   "certificate_number": {"type": "string"}, "issuer": {"type": "string"},
                   "valid_until": {"type": "string", "format": "date"}, "note": {"type": "string"},
                   "is_expired": {"type": "boolean"}, "version": {"type": "integer"}},
}


def qualification_public(row: AssessorQualification, today: date) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "certificate_number": row.certificate_number,
            "issuer": row.issuer, "valid_until": row.valid_until.isoformat(), "note": row.note,
            "is_expired": row.valid_until < today, "version": row.version}


def _qualification_refused(error: quals.QualificationError) -> ApiError:
    errors = [{"item": e["item"], "message": str(e["message"])} for e in error.errors]
    return ApiError(422, "invalid_input", "；".join(f"{e['item']}：{e['message']}" for e in errors), errors)


@api_route("/users/<int:user_id>/qualifications", methods=["GET"], roles=("admin",),
           summary="评估员资格证书 / an assessor's qualifications",
           responses={200: {"type": "object", "properties": {"items": {"type": "array", "items": QUALIFICATION_PUBLIC}}}})
def list_qualifications(user_id: int) -> Any:
    user, today = managed_user(user_id), local_today()
    return jsonify({"items": [qualification_public(q, today) for q in quals.qualifications_of(get_session(), user)]})


@api_route("/users/<int:user_id>/qualifications", methods=["POST"], roles=("admin",), body=QUALIFICATION_BODY,
           summary="登记评估员资格证书 / record an assessor's qualification",
           responses={201: QUALIFICATION_PUBLIC})
def create_qualification(user_id: int) -> Any:
    data = json_body()
    require_fields(data, {"certificate_number", "issuer", "valid_until", "note"},
                   {"certificate_number", "issuer", "valid_until"})
    user = managed_user(user_id)
    try:
        row = quals.record_qualification(session=get_session(), user=user, actor=current_actor(), data=data)
    except quals.QualificationError as error:
        raise _qualification_refused(error) from None
    return jsonify(qualification_public(row, local_today())), 201


@api_route("/users/<int:user_id>/qualifications/<int:qualification_id>", methods=["PATCH"], roles=("admin",),
           body=QUALIFICATION_PATCH, summary="更正或续期资格证书 / correct or renew a qualification",
           responses={200: QUALIFICATION_PUBLIC, 409: {"type": "object"}})
def update_qualification(user_id: int, qualification_id: int) -> Any:
    data = json_body()
    require_fields(data, {"certificate_number", "issuer", "valid_until", "note", "version"}, set())
    version = version_field(data)
    user = managed_user(user_id)
    db = get_session()
    row = db.get(AssessorQualification, qualification_id)
    if row is None or row.user_id != user.id:
        raise ApiError(404, "not_found", _("不存在或无权查看。"))
    try:
        quals.update_qualification(session=db, qualification=row, actor=current_actor(),
                                   data={k: v for k, v in data.items() if k != "version"}, version=version)
    except quals.QualificationError as error:
        raise _qualification_refused(error) from None
    except EditConflict as conflict:
        raise ApiError(409, "conflict", _("资格证书刚被其他管理员修改过，请刷新后再试。"),
                       [{"item": "version", "message": str(conflict.current_version)}]) from None
    return jsonify(qualification_public(row, local_today()))
