"""Accounts API: token login and who-am-i."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from accounts import gate, throttle
from accounts import operations as ops
from accounts.models import ROLE_LABELS
from accounts.passwords import verify_password
from audit import record_event
from core.api import ApiError, api_route, json_body, register_token_resolver, require_fields
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from core.unitofwork import keep_writes


def _resolve_token(*, session: Any, token: str) -> Any:
    """How a bearer token becomes a user (registered with core.api, which knows no accounts)."""
    user = ops.resolve_api_token(session=session, token=token, idle_hours=current_app.config["API_TOKEN_IDLE_HOURS"])
    gate.refuse_api_call(user)  # before the Idempotency-Key is claimed: a refusal is not its answer
    return user


register_token_resolver(_resolve_token)

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
           body=LOGIN_BODY, responses={200: TOKEN_RESPONSE, 401: {"type": "object"}}, is_public=True)
def api_login() -> Any:
    data = json_body()
    require_fields(data, {"username", "password"}, {"username", "password"})
    username, password = data["username"], data["password"]
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(422, "invalid_input", N_("用户名和密码必须是字符串"))
    db = get_session()
    wait = throttle.retry_after(username, request.remote_addr)
    if wait:
        record_event(session=db, action="login.rate_limited", target_type="user", target_id=username[:64])
        keep_writes()  # the audit record of a failed sign-in stays
        raise ApiError(429, "too_many_attempts", throttle.message(wait))
    user = ops.authenticate(session=db, username=username, password=password)
    if user is None:
        throttle.note_failure(username, request.remote_addr)
        record_event(session=db, action="login.failed", target_type="user", target_id=username[:64],
                     client_address=request.remote_addr)
        keep_writes()  # the audit record of a failed sign-in stays
        raise ApiError(401, "invalid_credentials", N_("用户名或密码不正确。"))
    throttle.clear(username)
    token = ops.issue_api_token(session=db, user=user, client_address=request.remote_addr)
    record_event(session=db, action="login.api", target=user, actor=user)
    return jsonify({"token": token})


@api_route("/auth/me", methods=["GET"], summary="当前用户 / the calling user", roles=(),
           responses={200: ME_RESPONSE})
def api_me() -> Any:
    user = current_actor()
    return jsonify({"id": user.id, "username": user.username, "display_name": user.display_name,
                    "roles": sorted(user.role_set), "role_labels": [ROLE_LABELS[r] for r in sorted(user.role_set)],
                    "organisation_id": user.organisation_id})


TOKEN_LIST = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "created_at": {"type": "string"}, "last_used_at": {"type": "string", "nullable": True},
        "expires_at": {"type": "string"}, "client_address": {"type": "string", "nullable": True},
        "current": {"type": "boolean"}}}}},
}

REVOKED = {"type": "object", "properties": {"revoked": {"type": "integer"}}}


def _token_public(token: Any, current_id: int | None) -> dict[str, Any]:
    return {"id": token.id, "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "expires_at": token.expires_at.isoformat(), "client_address": token.client_address,
            "current": token.id == current_id}


@api_route("/auth/tokens", methods=["GET"], summary="我的 API 令牌 / my API tokens", roles=(),
           responses={200: TOKEN_LIST})
def api_tokens() -> Any:
    user = current_actor()
    return jsonify({"items": [_token_public(t, user.api_token_id) for t in ops.api_tokens_of(get_session(), user)]})


@api_route("/auth/tokens/<int:token_id>", methods=["DELETE"], summary="注销一个令牌 / revoke one of my tokens",
           roles=(), responses={200: REVOKED})
def api_token_revoke(token_id: int) -> Any:
    db, user = get_session(), current_actor()
    if not ops.revoke_api_tokens(session=db, user=user, token_id=token_id):
        raise ApiError(404, "not_found", N_("没有这个令牌，或它已注销。"))
    return jsonify({"revoked": 1})


@api_route("/auth/logout", methods=["POST"], summary="注销当前令牌 / end the calling token", roles=(),
           responses={200: REVOKED})
def api_logout() -> Any:
    db, user = get_session(), current_actor()
    revoked = 0
    if user.api_token_id is not None:
        revoked = ops.revoke_api_tokens(session=db, user=user, token_id=user.api_token_id)
    return jsonify({"revoked": revoked})


PASSWORD_BODY = {
    "type": "object",
    "required": ["old_password", "new_password"],
    "properties": {"old_password": {"type": "string"}, "new_password": {"type": "string"}},
    "additionalProperties": False,
}


@api_route("/auth/password", methods=["POST"], roles=(), body=PASSWORD_BODY,
           summary="修改自己的密码（所有令牌随之失效）/ change my password (every token ends)",
           responses={200: {"type": "object", "properties": {"changed": {"type": "boolean"}}}})
def api_change_password() -> Any:
    data = json_body()
    require_fields(data, {"old_password", "new_password"}, {"old_password", "new_password"})
    if not isinstance(data["old_password"], str) or not isinstance(data["new_password"], str):
        raise ApiError(422, "invalid_input", N_("密码必须是字符串"))
    db, user = get_session(), current_actor()
    wait = throttle.retry_after(user.username, request.remote_addr)
    if wait:
        raise ApiError(429, "too_many_attempts", throttle.message(wait))
    if not verify_password(user.password_hash, data["old_password"]):
        throttle.note_failure(user.username, request.remote_addr)
    try:
        ops.change_password(session=db, user=user, old_password=data["old_password"],
                            new_password=data["new_password"])
    except ops.AccountError as error:
        raise ApiError(422, "invalid_input", "；".join(error.problems),
                       [{"item": None, "message": p} for p in error.problems]) from None
    return jsonify({"changed": True})


from accounts import admin_api, user_api  # noqa: E402,F401  (register the organisation and user routes)
