"""Paged list endpoints of the assessment API: GET /elders, /assessments, /assessments/due.

Every list answers {"items": [...], "next_cursor": null | "…"}; pass `cursor` back for the next
page and `limit` (1–500, default 50) for its size. Older keys ("elders", "due_soon", "overdue")
stay for existing clients and hold the same page."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from assessment import lists, queries
from assessment.api import ELDER, READ_ROLES
from assessment.presenters import elder_public
from core.api import ApiError, api_route
from core.auth import current_actor
from core.db import get_session
from core.paging import Page, PagingError, page_params, query_params

PAGED = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                          "next_cursor": {"type": ["string", "null"]}}}
LIST_ARGS = "cursor, limit (1-500, default 50)"


def _paged(page: Page, items: list[dict[str, Any]], **extra: Any) -> Any:
    return jsonify({"items": items, "next_cursor": page.next_cursor, **extra})


def _bad(error: PagingError) -> ApiError:
    return ApiError(422, "invalid_input", error.message, [{"item": error.item, "message": error.message}])


def _state_public(state: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"latest_assessment_id": state.latest_assessment_id, "level_code": state.level_code,
            "level_label": state.level_label,
            "next_due_on": state.next_due_on.isoformat() if state.next_due_on else None,
            "open_assessment_id": state.open_assessment_id}


@api_route("/elders", methods=["GET"], roles=READ_ROLES,
           summary="老年人列表：姓名或脱敏身份证号（?q=）、机构（?org=）、社区、等级；分页 / elders, "
                   "filtered and paged (" + LIST_ARGS + ")",
           query=query_params("q", "org", "community", "level", "due_from", "due_to", "cursor", "limit"),
           responses={200: {"type": "object", "properties": {
               **PAGED["properties"], "elders": {"type": "array", "items": ELDER}}}})
def list_elders() -> Any:
    q = request.args.get("q", "")
    if queries.is_full_id_number(q):
        raise ApiError(422, "id_number_in_url", "完整身份证号不能放在网址里；请用 POST /api/v1/elders/search。",
                       [{"item": "q", "message": "use POST /api/v1/elders/search {\"q\": ...}"}])
    try:
        page, _count = lists.elders_page(get_session(), current_actor(), request.args, page_params(request.args))
    except PagingError as error:
        raise _bad(error) from None
    items = [{**elder_public(elder), "state": _state_public(state)} for elder, state in page.items]
    return _paged(page, items, elders=items)


@api_route("/assessments", methods=["GET"], roles=READ_ROLES,
           summary="评估列表：状态、机构、工具、评估员、老人、日期（from/to）；最近修改在前；分页 / "
                   "assessments, filtered and paged (" + LIST_ARGS + ")", responses={200: PAGED},
           query=query_params("org", "status", "instrument", "assessor", "elder", "from", "to", "level", "reason",
                              "current", "community", "cursor", "limit"))
def list_assessments() -> Any:
    try:
        page, _count = lists.assessments_page(get_session(), current_actor(), request.args,
                                              page_params(request.args))
    except PagingError as error:
        raise _bad(error) from None
    items = [{"id": a.id, "status": a.status, "elder_id": a.elder_id, "elder_name": elder.name,
              "organisation_id": a.organisation_id, "instrument": a.instrument_id, "reason": a.reason,
              "revision": a.revision, "level": ((a.result or {}).get("level") or {}).get("code"),
              "created_by_id": a.created_by_id, "updated_at": a.updated_at.isoformat(),
              "approved_at": a.approved_at.isoformat() if a.approved_at else None}
             for a, elder in page.items]
    return _paged(page, items)


@api_route("/assessments/due", methods=["GET"], roles=READ_ROLES,
           summary="即将到期与已逾期的复评（?kind=overdue|soon|all，机构、等级）；最早到期在前；分页 / "
                   "reassessments due, paged (" + LIST_ARGS + ")", responses={200: PAGED})
def due_assessments() -> Any:
    try:
        page = lists.due_page(get_session(), current_actor(), request.args, page_params(request.args))
    except PagingError as error:
        raise _bad(error) from None
    items = [{"elder": elder_public(row.elder), "assessment_id": row.state.latest_assessment_id,
              "level_code": row.state.level_code, "due_on": row.due_on.isoformat(),
              "days_left": row.days_left} for row in page.items]
    return _paged(page, items, overdue=[i for i in items if i["days_left"] < 0],
                  due_soon=[i for i in items if i["days_left"] >= 0])
