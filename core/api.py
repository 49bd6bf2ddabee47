"""The JSON API under /api/v1: one blueprint that each domain's api.py adds routes to,
bearer-token authentication, JSON errors, and the OpenAPI 3 document built from the routes.

    @api_route("/elders", methods=["POST"], roles=("assessor",), summary="登记老年人",
               body={...json schema...}, responses={201: {...}})
    def create_elder(): ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core import idempotency
from core.auth import public, require_roles
from core.errors import DomainError
from core.i18n import N_

api = Blueprint("api", __name__, url_prefix="/api/v1")

_OPERATIONS: list[dict[str, Any]] = []

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"item": {"type": ["string", "null"]}, "message": {"type": "string"}},
            },
        },
    },
}


def api_route(
    rule: str,
    *,
    methods: list[str],
    summary: str,
    roles: tuple[str, ...] | None = None,
    body: dict[str, Any] | None = None,
    responses: dict[int, dict[str, Any]] | None = None,
    is_public: bool = False,
    produces: str = "application/json",
    consumes: str = "application/json",
    query: list[dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an API view with its access rule and its OpenAPI description. `body` is the
    request body's schema in the `consumes` media type: for "multipart/form-data", an object
    whose file fields are `{"type": "string", "format": "binary"}` (see `MULTIPART_FILE`).
    `query`: the query parameters it reads, as OpenAPI parameter objects (see `query_param`)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        guarded = public(view) if is_public else require_roles(*(roles or ()))(view)
        api.add_url_rule(rule, view.__name__, guarded, methods=methods)
        for method in methods:
            _OPERATIONS.append(
                {
                    "rule": rule,
                    "method": method.lower(),
                    "summary": summary,
                    "roles": roles or (),
                    "body": body,
                    "responses": responses or {200: {"type": "object"}},
                    "public": is_public,
                    "produces": produces,
                    "consumes": consumes,
                    "query": query or [],
                    "operation_id": view.__name__,
                }
            )
        return guarded

    return decorator


MULTIPART_FILE = {"type": "string", "format": "binary"}  # an uploaded file in a multipart body


def query_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An optional query parameter for `api_route(query=[...])` (a string unless `schema` says)."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "重发同一请求时带上同一个键，只会生效一次 / resend with the same key: applied once",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9_.:-]+$"},
}


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []

    def repl(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", repl, rule)
    return "/api/v1" + path, params


# What any operation may answer besides its own results: a refused role, a record or a referenced
# record that is not there (or not yours), a wrong method (with `Allow`), a conflict with another
# edit, a body too large, bad input, too many attempts, the database briefly unavailable.
COMMON_ERRORS = {
    "400": "请求无效 / bad request",
    "403": "角色无权执行 / forbidden for your roles",
    "404": "不存在或无权查看 / not found",
    "405": "不支持的请求方法（见 Allow）/ method not allowed (see Allow)",
    "409": "与其他修改冲突或状态不允许 / conflict",
    "413": "请求体过大 / body too large",
    "422": "输入有误 / invalid input",
    "429": "尝试次数过多 / too many attempts",
    "503": "数据库暂时不可用 / database unavailable",
}


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in _OPERATIONS:
        path, params = _openapi_path(op["rule"])
        responses: dict[str, Any] = {}
        for status, schema in op["responses"].items():
            media = op["produces"] if status < 300 else "application/json"
            responses[str(status)] = {
                "description": "OK" if status < 300 else "Error",
                "content": {media: {"schema": schema}},
            }
        if not op["public"]:
            responses.setdefault("401", {"description": "未登录 / no or bad token",
                                         "content": {"application/json": {"schema": ERROR_SCHEMA}}})
        for status, description in COMMON_ERRORS.items():
            responses.setdefault(status, {"description": description,
                                          "content": {"application/json": {"schema": ERROR_SCHEMA}}})
        if params:
            responses.setdefault("404", {"description": "不存在或无权查看 / not found",
                                         "content": {"application/json": {"schema": ERROR_SCHEMA}}})
        params = [*params, *op["query"]]
        if op["method"] in ("post", "put") and not op["public"]:
            params = [*params, IDEMPOTENCY_PARAMETER]
        operation: dict[str, Any] = {
            "operationId": op["operation_id"] + "_" + op["method"],
            "summary": op["summary"],
            "parameters": params,
            "responses": responses,
        }
        if op["roles"]:
            operation["description"] = "Roles: " + ", ".join(op["roles"])
        if op["public"]:
            operation["security"] = []
        if op["body"] is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {op["consumes"]: {"schema": op["body"]}},
            }
            operation["responses"].setdefault(
                "422", {"description": "输入有误 / invalid input",
                        "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            )
        paths.setdefault(path, {})[op["method"]] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "Yiyang 颐养 API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@api.route("/openapi.json")
@public
def openapi_json() -> Response:
    return jsonify(openapi_document())


_TOKEN_RESOLVERS: list[Callable[..., Any]] = []


def register_token_resolver(resolve: Callable[..., Any]) -> None:
    """The package that owns users (accounts) says how a bearer token becomes a user:
    `resolve(session=..., token=...) -> user | None`. core/ knows no domain."""
    if resolve not in _TOKEN_RESOLVERS:
        _TOKEN_RESOLVERS.append(resolve)


@api.before_request
def _authenticate_bearer() -> None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and _TOKEN_RESOLVERS:
        from core.db import get_session

        g.api_user = _TOKEN_RESOLVERS[0](session=get_session(), token=header[7:].strip())


api.before_request(idempotency.replay_or_claim)
api.after_request(idempotency.remember)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 listing what is wrong."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_json", N_("请求体必须是 JSON 对象。"))
    return data


class ApiError(DomainError):
    """An error answered as JSON: {"error", "message", "errors"} (core.errors maps the family)."""

    def __init__(self, status: int, code: str, message: Any, errors: list[dict[str, Any]] | None = None):
        DomainError.__init__(self, message, status=status, code=code, errors=errors)


def date_field(value: Any, item: str) -> date | None:
    """An optional 'YYYY-MM-DD' body field, or a 422 naming it."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(422, "invalid_input", N_("日期格式应为 YYYY-MM-DD"),
                       [{"item": item, "message": N_("日期格式应为 YYYY-MM-DD")}]) from None


def require_fields(data: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    """Whitelist the body's keys and list every missing or unexpected one at once."""
    errors = [{"item": key, "message": _l("缺少必填字段 %(field)s", field=key)} for key in sorted(required - data.keys())]
    errors += [{"item": key, "message": _l("不接受的字段 %(field)s", field=key)} for key in sorted(data.keys() - allowed)]
    if errors:
        raise ApiError(422, "invalid_input", N_("输入有误"), errors)


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    messages = {
        401: "需要登录：请先获取令牌。Authentication required.",
        403: "没有权限。Forbidden.",
        404: "不存在或无权查看。Not found.",
        405: "不支持的请求方法。Method not allowed.",
        409: "记录已被他人修改，请刷新后再试。Conflict.",
        429: "请求过于频繁，请稍后再试。Too many requests.",
    }
    status = error.code or 500
    current_app.logger.debug("api error %s on %s", status, request.path)
    response = jsonify({"error": error.name.lower().replace(" ", "_"),
                        "message": messages.get(status, error.description or ""), "errors": []})
    response.status_code = status
    for name, value in error.get_headers():  # `Allow` on a 405, `Retry-After` where set
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status
