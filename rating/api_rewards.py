"""The grade reward table over the API: GET and PUT /grade-rewards, DELETE one row, and
GET /grade-rewards/totals (reward totals by district for a year). Administrators only; the
organisation is the caller's own unless `organisation_id` names one they may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request

from accounts.models import Organisation
from accounts.queries import subtree_ids, visible_org_ids
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import current_actor
from core.db import get_session, valid_id
from core.i18n import N_
from core.i18n import page_lang as _lang
from rating import operations as ops
from rating import queries
from rating.models import GradeReward
from rating.rewards import reward_json, reward_table, reward_totals, scheme_grades

ADMIN = ("admin",)
ROW = {"type": "object", "required": ["scheme", "grade_code", "amount", "period", "valid_from"], "properties": {
    "scheme": {"type": "string"}, "grade_code": {"type": "integer"},
    "amount": {"type": ["number", "string"], "description": "元，至多两位小数，不能为负 / yuan, >= 0"},
    "period": {"type": "string", "enum": ["yearly", "one_off"]}, "note": {"type": "string", "maxLength": 300},
    "valid_from": {"type": "string", "format": "date"},
    "version": {"type": "integer", "description": "修改已有的行时必填 / required to edit an existing row"}}}
TABLE = {"type": "object", "properties": {"organisation_id": {"type": "integer"},
                                          "items": {"type": "array", "items": ROW},
                                          "grades": {"type": "object"}}}


def _organisation(raw: Any) -> Organisation:
    session, actor = get_session(), current_actor()
    org_id = actor.organisation_id if raw in (None, "") else valid_id(raw)
    if org_id is None or org_id not in visible_org_ids(session, actor):
        raise ApiError(404, "not_found", N_("找不到机构"))
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        raise ApiError(404, "not_found", N_("找不到机构"))
    return organisation


def _table(organisation: Organisation) -> dict[str, Any]:
    grades = scheme_grades()
    lang = _lang()
    return {"organisation_id": organisation.id,
            "items": [reward_json(r, grades, lang) for r in reward_table(get_session(), organisation.id or 0)],
            "grades": {scheme: [{"code": code, "label": level.label.get(lang)} for code, level in levels.items()]
                       for scheme, levels in grades.items()}}


@api_route("/grade-rewards", methods=["GET"], roles=ADMIN, responses={200: TABLE},
           summary="等级奖补表（?organisation_id=）/ the grade → reward table of an organisation")
def get_grade_rewards() -> Any:
    return jsonify(_table(_organisation(request.args.get("organisation_id"))))


@api_route("/grade-rewards", methods=["PUT"], roles=ADMIN, responses={200: TABLE, 409: {"type": "object"}},
           summary="新增或修改等级奖补（每个问题一并列出）/ create or edit reward rows (every problem listed)",
           body={"type": "object", "required": ["rewards"], "properties": {
               "organisation_id": {"type": "integer"}, "rewards": {"type": "array", "items": ROW}}})
def put_grade_rewards() -> Any:
    data = json_body()
    require_fields(data, allowed={"rewards", "organisation_id"}, required={"rewards"})
    organisation = _organisation(data.get("organisation_id"))
    ops.save_grade_rewards(session=get_session(), actor=current_actor(), organisation=organisation,
                           rewards=data["rewards"])
    return jsonify(_table(organisation))


@api_route("/grade-rewards/<int:grade_reward_id>", methods=["DELETE"], roles=ADMIN, responses={204: {"type": "object"}},
           summary="删除误填的一行（?version=）/ remove a row entered by mistake")
def delete_grade_reward(grade_reward_id: int) -> Any:
    session = get_session()
    row = queries.get_or_404(session, GradeReward, grade_reward_id, current_actor())
    version = request.args.get("version", "")
    ops.delete_grade_reward(session=session, actor=current_actor(), reward=row,
                            version=int(version) if version.isdigit() else None)
    return "", 204


@api_route("/grade-rewards/totals", methods=["GET"], roles=ADMIN,
           summary="按区和发放周期汇总某年的奖补（?year=&organisation_id=）/ reward totals by district for a year")
def get_grade_reward_totals() -> Any:
    session = get_session()
    organisation = _organisation(request.args.get("organisation_id"))
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None if raw else date.today().year
    if year is None:
        raise ApiError(422, "invalid_input", N_("year 应为 2000 到 2100 之间的年份"),
                       [{"item": "year", "message": N_("year 应为 2000 到 2100 之间的年份")}])
    below = set(subtree_ids(session, organisation.id or 0))
    subtree = [oid for oid in visible_org_ids(session, current_actor()) if oid in below]
    return jsonify(reward_totals(session, organisation_ids=subtree, year=year))
