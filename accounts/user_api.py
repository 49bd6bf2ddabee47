"""The administrator's user API beyond creating them: reset a password, change roles, deactivate,
record assessor qualifications. Administrators only, and only for users in their own subtree."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _

from accounts import operations as ops
from accounts.admin_api import user_public
from accounts.models import User
from accounts.queries import managed_org_ids
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import current_actor
from core.db import EditConflict, get_session, valid_id
from core.idempotency import answer_holds_secret

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
