"""Accounts API: token login and who-am-i."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from accounts import operations as ops
from accounts import throttle
from accounts.models import ROLE_LABELS
from audit import record_event
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import current_actor
from core.db import get_session

LOGIN_BODY = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
    "additionalProperties": False,
}
TOKEN_RESPONSE = {"type": "object", "properties": {"token": {"type": "string"}}}
ME_RESPONSE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "organisation_id": {"type": "integer"},
    },
}


@api_route("/auth/login", methods=["POST"], summary="用户名密码换取令牌 / exchange a password for a token",
           body=LOGIN_BODY, responses={200: TOKEN_RESPONSE}, is_public=True)
def api_login() -> Any:
    data = json_body()
    require_fields(data, {"username", "password"}, {"username", "password"})
    username, password = data["username"], data["password"]
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(422, "invalid_input", "用户名和密码必须是字符串")
    db = get_session()
    wait = throttle.retry_after(username, request.remote_addr)
    if wait:
        record_event(session=db, action="login.rate_limited", target_type="user", target_id=username[:64])
        db.commit()
        raise ApiError(429, "too_many_attempts", throttle.message(wait))
    user = ops.authenticate(session=db, username=username, password=password)
    if user is None:
        throttle.note_failure(username, request.remote_addr)
        record_event(session=db, action="login.failed", target_type="user", target_id=username[:64],
                     client_address=request.remote_addr)
        db.commit()
        raise ApiError(401, "invalid_credentials", "用户名或密码不正确。")
    throttle.clear(username)
    token = ops.issue_api_token(session=db, user=user)
    record_event(session=db, action="login.api", target=user, actor=user)
    db.commit()
    return jsonify({"token": token})


@api_route("/auth/me", methods=["GET"], summary="当前用户 / the calling user", roles=(),
           responses={200: ME_RESPONSE})
def api_me() -> Any:
    user = current_actor()
    return jsonify({"id": user.id, "username": user.username, "display_name": user.display_name,
                    "roles": sorted(user.role_set), "role_labels": [ROLE_LABELS[r] for r in sorted(user.role_set)],
                    "organisation_id": user.organisation_id})
