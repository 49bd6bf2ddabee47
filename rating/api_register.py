"""The public register as JSON (no login): GET /public/register, the same rows, filters and
paging as the page /rating/register."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request

from core.api import ApiError, api_route
from core.db import get_session
from core.i18n import page_lang
from core.paging import PagingError, page_params
from core.ratelimit import limit_public
from rating.documents import short_verify_url
from rating.register import entry, register_page
from rating.rewards import scheme_grades

ROW = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "district": {"type": "string"}, "grade": {"type": ["object", "null"]},
    "valid_until": {"type": ["string", "null"], "format": "date"}, "is_expired": {"type": "boolean"},
    "verify_url": {"type": ["string", "null"]}, "disqualified": {"type": ["object", "null"]}}}


@api_route("/public/register", methods=["GET"], is_public=True,
           responses={200: {"type": "object", "properties": {"items": {"type": "array", "items": ROW},
                                                             "next_cursor": {"type": ["string", "null"]}}}},
           summary="公开名录：等级、有效期、证书验证链接、取消资格（?district=&kind=&grade=&status=&cursor=&limit=）"
                   " / public register of grades and disqualifications")
def public_register() -> Any:
    limit_public("register")
    try:
        page = register_page(get_session(), request.args, page_params(request.args))
    except PagingError as error:
        raise ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}]) from None
    lang, levels, today = page_lang(), scheme_grades(), date.today()
    items = []
    for row in page.items:
        item = entry(row, lang, levels, today)
        code = item.pop("certificate_code")
        item["verify_url"] = short_verify_url(code) if code else None
        items.append(item)
    return jsonify({"items": items, "next_cursor": page.next_cursor})
