"""GET /api/v1/stats/{assessments|facilities|actions}: the statistics pages' figures as JSON.

    ?by=level,district,month&from=2026-01&to=2026-12&org=7
    → {"rows": [{"level": 2, "district": "东城区", "month": "2026-03", "count": 41}, ...], "total": 812}

Rows carry only the `by` keys (summed over the others) and `count`; without `by` there is one
row with the total. Bad arguments answer 422 listing every problem. docs/statistics.md."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from core.api import api_route
from core.auth import current_actor
from core.db import get_session
from stats import queries
from stats.params import parse_filters

ROLES = ("admin", "reviewer")
ARGS = ("by (comma separated), from and to (YYYY-MM or YYYY-MM-DD, inclusive, organisation time zone), "
        "org (a subtree you may see)")


def _schema(keys: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {
        "rows": {"type": "array", "items": {"type": "object", "properties": {**keys, "count": {"type": "integer"}}}},
        "total": {"type": "integer"}, "from": {"type": "string"}, "to": {"type": "string"}}}


DISTRICT = {"district": {"type": ["string", "null"]}}
MONTH = {"month": {"type": ["string", "null"]}}


def _answer(table: queries.Table, filters: Any) -> Any:
    rows = [{key: row[key] for key in (*filters.by, "count")} for row in table.rows(filters.by)]
    return jsonify({"rows": rows, "total": table.total, "from": filters.start.isoformat(),
                    "to": filters.end.isoformat()})


@api_route("/stats/assessments", methods=["GET"], roles=ROLES,
           summary="评估统计：审核通过的现行评估（未被更正取代），按等级、区县、月份（审核通过月）计数 / approved "
                   "assessments by level, district, month of approval; " + ARGS,
           responses={200: _schema({"level": {"type": ["integer", "null"]}, **DISTRICT, **MONTH})})
def stats_assessments() -> Any:
    session = get_session()
    filters = parse_filters(session, current_actor(), request.args, allowed_by=("level", "district", "month"))
    return _answer(queries.assessments(session, filters), filters)


@api_route("/stats/facilities", methods=["GET"], roles=ROLES,
           summary="机构统计：按现行等级代码（无等级为 null）和区县计数；机构是当前状态，from/to 不影响 / "
                   "facilities by current grade and district (current state: from/to do not apply); " + ARGS,
           responses={200: _schema({"grade": {"type": ["integer", "null"]}, **DISTRICT})})
def stats_facilities() -> Any:
    session = get_session()
    filters = parse_filters(session, current_actor(), request.args, allowed_by=("grade", "district"))
    return _answer(queries.facilities(session, filters), filters)


@api_route("/stats/actions", methods=["GET"], roles=ROLES,
           summary="整改统计：期间内新开的整改，按当前状态、开出月份、区县计数 / corrective actions opened in the "
                   "period by current status, month opened, district; " + ARGS,
           responses={200: _schema({"status": {"type": "string"}, **MONTH, **DISTRICT})})
def stats_actions() -> Any:
    session = get_session()
    filters = parse_filters(session, current_actor(), request.args, allowed_by=("status", "month", "district"))
    return _answer(queries.actions_by_status(session, filters), filters)
