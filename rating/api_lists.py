"""Paged list endpoints of the rating API: GET /facilities, /inspections, /actions, /grades,
/certificates. Each answers {"items": [...], "next_cursor": null | "…"} (cursor, limit 1–500,
default 50); the older keys ("facilities", "actions") stay for existing clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request

from core.api import ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.paging import Page, PagingError, attach, page_params, query_params
from rating import lists
from rating.api import action_json, certificate_json, facility_json, grade_json, inspection_json
from rating.models import Facility, Grade

READ = ("admin", "inspector", "operator")  # an operator account: its own facilities' rows (rating.lists)
PAGED = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                          "next_cursor": {"type": ["string", "null"]}}}
ARGS = " (cursor, limit 1-500, default 50)"


def _page(finder: Callable[..., tuple[Page, Any]]) -> Page:
    try:
        page, _count = finder(get_session(), current_actor(), request.args, page_params(request.args))
    except PagingError as error:
        raise ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}]) from None
    return page


@api_route("/facilities", methods=["GET"], roles=READ, responses={200: PAGED},
           query=query_params("q", "org", "kind", "district", "grade", "cursor", "limit"),
           summary="机构列表：名称（?q=）、类型、区、当前等级、机构；分页 / facilities, filtered and paged" + ARGS)
def list_facilities() -> Any:
    session = get_session()
    page = _page(lists.facilities_page)  # (facility, its state row) pairs
    attach(session, page, Grade, lambda row: row[1].grade_id if row[1] is not None else None)
    grades = {facility.id: grade for (facility, _state), grade in page.items if grade is not None}
    items = [facility_json(session, facility, grades) for (facility, _state), _grade in page.items]
    return jsonify({"items": items, "next_cursor": page.next_cursor, "facilities": items})


@api_route("/inspections", methods=["GET"], roles=READ, responses={200: PAGED},
           query=query_params("org", "status", "facility", "district", "plan", "scheme", "inspector", "from", "to",
                              "cursor", "limit"),
           summary="检查列表：状态、机构、计划、方案、检查员、日期；最新在前；分页 / inspections, paged" + ARGS)
def list_inspections() -> Any:
    page = _page(lists.inspections_page)
    items = [{**inspection_json(i), "facility_name": name} for i, name in page.items]
    return jsonify({"items": items, "next_cursor": page.next_cursor})


@api_route("/actions", methods=["GET"], roles=READ, responses={200: PAGED},
           query=query_params("org", "which", "status", "facility", "district", "inspection", "severity", "from", "to",
                              "cursor", "limit"),
           summary="整改项列表（which=open / due_soon / overdue / closed / all；机构、检查、严重程度、期限）；"
                   "期限最早在前；分页 / corrective actions, paged" + ARGS)
def list_actions() -> Any:
    page = _page(lists.actions_page)
    items = [{**action_json(a), "facility_name": name} for a, name in page.items]
    return jsonify({"items": items, "next_cursor": page.next_cursor, "actions": items})


@api_route("/grades", methods=["GET"], roles=READ, responses={200: PAGED},
           summary="等级列表：机构、方案、计划、仅现行（current=1）；最新在前；分页 / grades, paged" + ARGS)
def list_grades() -> Any:
    session = get_session()
    page = _page(lists.grades_page)
    attach(session, page, Facility, lambda row: row[0].facility_id)  # the page's facilities, one query
    return jsonify({"items": [grade_json(session, g, facility) for (g, _name), facility in page.items],
                    "next_cursor": page.next_cursor})


@api_route("/certificates", methods=["GET"], roles=READ, responses={200: PAGED},
           query=query_params("org", "facility", "district", "plan", "scheme", "revoked", "from", "to", "cursor",
                              "limit"),
           summary="证书列表：机构、计划、是否撤销；最新在前；分页 / certificates, paged" + ARGS)
def list_certificates() -> Any:
    session = get_session()
    page = _page(lists.certificates_page)
    return jsonify({"items": [certificate_json(session, c) for c, _g, _f in page.items],
                    "next_cursor": page.next_cursor})
