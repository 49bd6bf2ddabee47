"""JSON API for facilities, plans, inspections, corrective actions, grades and certificates."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlmodel import Session, select

from accounts.queries import visible_org_ids
from core.api import ApiError, api_route, date_field, json_body, require_fields
from core.auth import current_actor
from core.db import get_session, valid_id
from core.i18n import N_
from core.reasons import reason_text
from rating import operations as ops
from rating import queries, saving
from rating.documents import (
    certificate_pdf_response,
    notice_pdf_response,
    verify_url,
)
from rating.models import Certificate, CorrectiveAction, Facility, Grade, Inspection, InspectionPlan
from rating.operations.actions import aware

OBJ = {"type": "object"}
STAFF = ("admin", "inspector")


def facility_json(session: Session, facility: Facility, grades: dict[int, Grade] | None = None) -> dict[str, Any]:
    """`grades`: the current grades of a whole page, read at once (the list pairs each facility
    with the grade its rating_facility_state row names, core.paging.attach); without it, one query."""
    grade = grades.get(facility.id or 0) if grades is not None else queries.current_grade(session, facility)
    return {
        "id": facility.id, "name": facility.name, "kind": facility.kind, "district": facility.district,
        "address": facility.address, "beds": facility.beds, "operator": facility.operator,
        "filing_status": facility.filing_status, "organisation_id": facility.organisation_id,
        "opened_on": facility.opened_on.isoformat() if facility.opened_on else None,
        "is_disqualified": facility.is_disqualified,
        "disqualified_reason": reason_text(facility.disqualified_reason) or None,
        "current_grade": grade_json(session, grade, facility) if grade else None,
    }


def inspection_json(inspection: Inspection) -> dict[str, Any]:
    return {
        "id": inspection.id, "facility_id": inspection.facility_id, "scheme": inspection.scheme,
        "scheme_version": inspection.scheme_version, "status": inspection.status,
        "version": inspection.version, "answers": inspection.answers, "facts": inspection.facts,
        "known_facts": inspection.auto_facts, "notes": inspection.notes, "result": inspection.result,
        "plan_id": inspection.plan_id, "is_reinspection": inspection.is_reinspection,
        "previous_inspection_id": inspection.previous_inspection_id,
        "is_unqualified": inspection.is_unqualified,
        "rectification_due_at": _iso(inspection.rectification_due_at),
    }


def action_json(action: CorrectiveAction) -> dict[str, Any]:
    return {
        "id": action.id, "inspection_id": action.inspection_id, "facility_id": action.facility_id,
        "item": action.item_id or None, "description": action.description,
        "required_action": action.required_action, "severity": action.severity,
        "due_at": _iso(action.due_at), "status": ops.display_status(action),
        "is_overdue": ops.is_overdue(action), "is_rectification": action.is_rectification,
        "evidence_note": action.evidence_note,
    }


def grade_json(session: Session, grade: Grade, facility: Facility | None = None) -> dict[str, Any]:
    """`facility`: the grade's facility when the caller has it (a list reads a page's at once)."""
    facility = facility if facility is not None else session.get(Facility, grade.facility_id)
    assert facility is not None and facility.id == grade.facility_id
    return {
        "id": grade.id, "facility_id": grade.facility_id, "inspection_id": grade.inspection_id,
        "scheme": grade.scheme, "code": grade.code, "label": grade.label, "stars": grade.stars,
        "medal": grade.medal, "valid_from": grade.valid_from.isoformat(),
        "valid_until": grade.valid_until.isoformat(),
        "status": ops.grade_status(grade=grade, facility=facility),
        "superseded_by_id": grade.superseded_by_id,
    }


def certificate_json(session: Session, certificate: Certificate) -> dict[str, Any]:
    grade = session.get(Grade, certificate.grade_id)
    facility = session.get(Facility, certificate.facility_id)
    assert grade is not None and facility is not None
    status, reason = ops.certificate_status(certificate=certificate, grade=grade, facility=facility)
    return {
        "id": certificate.id, "serial": certificate.serial, "facility_id": certificate.facility_id,
        "grade_id": certificate.grade_id, "grade": {"code": grade.code, "label": grade.label,
                                                    "stars": grade.stars, "medal": grade.medal},
        "issued_on": certificate.issued_on.isoformat(), "valid_until": certificate.valid_until.isoformat(),
        "status": status, "status_reason": reason_text(reason) or None, "verify_url": verify_url(certificate, with_payload=False),
        "qr_url": verify_url(certificate),
    }


def _iso(value: Any) -> str | None:
    return aware(value).isoformat() if value else None


def _actor() -> Any:
    return current_actor()


@api_route("/facilities", methods=["POST"], roles=STAFF, summary="登记养老服务机构 / register a facility",
           body={"type": "object", "required": ["name", "kind"], "properties": {
               "name": {"type": "string"}, "kind": {"enum": ["institution", "community_center", "station"]},
               "district": {"type": "string"}, "address": {"type": "string"}, "beds": {"type": "integer"},
               "operator": {"type": "string"}, "filing_status": {"enum": ["filed", "not_filed"]},
               "opened_on": {"type": "string", "format": "date"}, "organisation_id": {"type": "integer"},
               "operator_organisation_id": {"type": "integer"}}},
           responses={201: OBJ})
def create_facility() -> Any:
    data = json_body()
    require_fields(data, {"name", "kind", "district", "address", "beds", "operator", "filing_status",
                          "opened_on", "organisation_id", "operator_organisation_id"}, {"name", "kind"})
    session = get_session()
    actor = _actor()
    org_id = data.pop("organisation_id", None) or actor.organisation_id
    visible = visible_org_ids(session, actor)
    if org_id not in visible:
        raise ApiError(422, "invalid_input", N_("不能在该机构下登记"), [{"item": "organisation_id", "message": N_("无权在该机构下登记")}])
    if data.get("operator_organisation_id") not in (None, *visible):
        raise ApiError(422, "invalid_input", N_("运营方机构不在可见范围内"),
                       [{"item": "operator_organisation_id", "message": N_("运营方机构不在可见范围内")}])
    data["opened_on"] = date_field(data.get("opened_on"), "opened_on")
    facility = ops.create_facility(session=session, actor=actor, organisation_id=org_id, data=data)
    return facility_json(session, facility), 201


@api_route("/facilities/<int:facility_id>", methods=["GET"], roles=("admin", "inspector", "operator"),
           summary="机构详情及等级历史 / a facility with its grade history")
def get_facility(facility_id: int) -> Any:
    session = get_session()
    facility = queries.get_or_404(session, Facility, facility_id, _actor())
    out = facility_json(session, facility)
    out["grade_history"] = [grade_json(session, g) for g in queries.grade_history(session, facility)]
    return out


@api_route("/plans", methods=["POST"], roles=("admin",), summary="制定检查计划（双随机） / create an inspection plan",
           body={"type": "object", "required": ["name", "scheme", "method"], "properties": {
               "name": {"type": "string"}, "scheme": {"type": "string"},
               "method": {"enum": ["manual", "share", "count"]}, "share": {"type": "number"},
               "count": {"type": "integer"}, "facility_ids": {"type": "array", "items": {"type": "integer"}},
               "draw": {"type": "boolean", "description": "false: only commit to the seed; draw later"}}},
           responses={201: OBJ})
def create_plan() -> Any:
    data = json_body()
    if "seed" in data:
        raise ApiError(422, "invalid_input", "随机种子由服务器生成，不接受客户端提供的种子。",
                       [{"item": "seed", "message": "不接受客户端提供的随机种子：种子由服务器生成并事先公布其哈希承诺"}])
    require_fields(data, {"name", "scheme", "method", "share", "count", "facility_ids", "draw"},
                   {"name", "scheme", "method"})
    errors = []
    for key in ("name", "scheme", "method"):
        if not isinstance(data[key], str):
            errors.append({"item": key, "message": f"{key} 应为字符串"})
    share, count, ids = data.get("share"), data.get("count"), data.get("facility_ids")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int | float)):
        errors.append({"item": "share", "message": "抽取比例应为数字（例如 0.3）"})
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        errors.append({"item": "count", "message": "抽取数量应为整数"})
    if ids is not None and (not isinstance(ids, list) or any(valid_id(i) is None or isinstance(i, str) for i in ids)):
        errors.append({"item": "facility_ids", "message": "检查对象应为机构编号的列表"})
    if not isinstance(data.get("draw", True), bool):
        errors.append({"item": "draw", "message": "draw 应为 true 或 false"})
    if errors:
        raise ApiError(422, "invalid_input", "输入有误", errors)
    session = get_session()
    actor = _actor()
    plan = ops.create_plan(session=session, actor=actor, organisation_id=actor.organisation_id,
                           name=data["name"], scheme=data["scheme"], method=data["method"],
                           share=share, count=count, facility_ids=list(ids or []),
                           draw_now=data.get("draw", True))
    return plan_json(plan), 201


@api_route("/plans/<int:plan_id>/draw", methods=["POST"], roles=("admin",),
           summary="抽取（固定候选并公开种子） / draw: fix the candidates and reveal the seed", responses={200: OBJ})
def draw_plan(plan_id: int) -> Any:
    session = get_session()
    plan = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    ops.draw_plan(session=session, actor=_actor(), plan=plan)
    return plan_json(plan)


def plan_json(plan: InspectionPlan) -> dict[str, Any]:
    drawn = plan.drawn_at is not None
    return {"id": plan.id, "name": plan.name, "scheme": plan.scheme, "method": plan.method,
            "share": plan.share, "count": plan.count, "seed_commitment": plan.seed_commitment,
            "seed": plan.seed if drawn else None, "drawn_at": plan.drawn_at.isoformat() if drawn else None,  # type: ignore[union-attr]
            "candidate_ids": plan.candidate_ids, "target_ids": plan.target_ids,
            "inspector_ids": plan.inspector_ids, "inspector_pool_ids": plan.inspector_pool_ids,
            "is_published": plan.is_published, "repeatable": ops.verify_draw(plan)}


@api_route("/plans/<int:plan_id>", methods=["GET"], roles=STAFF, summary="检查计划及抽取结果 / a plan and its draw")
def get_plan(plan_id: int) -> Any:
    session = get_session()
    return plan_json(queries.get_or_404(session, InspectionPlan, plan_id, _actor()))


@api_route("/inspections", methods=["POST"], roles=STAFF, summary="开始一次检查 / start an inspection",
           body={"type": "object", "required": ["facility_id", "scheme"], "properties": {
               "facility_id": {"type": "integer"}, "scheme": {"type": "string"}}},
           responses={201: {"type": "object", "properties": {
               "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"}}}})
def create_inspection() -> Any:
    data = json_body()
    require_fields(data, {"facility_id", "scheme"}, {"facility_id", "scheme"})
    session = get_session()
    facility = queries.get_or_404(session, Facility, data["facility_id"], _actor())
    inspection = ops.start_inspection(session=session, actor=_actor(), facility=facility,
                                      scheme=str(data["scheme"]))
    return inspection_json(inspection), 201


@api_route("/inspections/<int:inspection_id>", methods=["GET"], roles=STAFF, summary="检查详情 / an inspection")
def get_inspection(inspection_id: int) -> Any:
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    out = inspection_json(inspection)
    out["actions"] = [action_json(a) for a in queries.actions(session, _actor(), which="all",
                                                              inspection_id=inspection.id)]
    return out


@api_route("/inspections/<int:inspection_id>/answers", methods=["PUT"], roles=STAFF,
           summary="保存检查表（乐观锁） / save the checklist (optimistic locking)",
           body={"type": "object", "required": ["answers", "version"], "properties": {
               "answers": OBJ, "facts": OBJ, "notes": OBJ, "version": {"type": "integer"}}},
           responses={200: OBJ, 409: OBJ})
def save_answers(inspection_id: int) -> Any:
    data = json_body()
    require_fields(data, {"answers", "facts", "notes", "version"}, {"answers", "version"})
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    saved = saving.save(session=session, actor=_actor(), inspection=inspection, answers=data["answers"],
                        facts=data.get("facts"), notes=data.get("notes"), version=data["version"])
    return jsonify({"id": inspection.id, **saved.body()}), saved.http_status


@api_route("/inspections/<int:inspection_id>/submit", methods=["POST"], roles=STAFF,
           summary="提交检查：评分、拟定等级、生成整改项 / submit: score, propose a grade, create actions")
def submit_inspection(inspection_id: int) -> Any:
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    ops.submit_inspection(session=session, actor=_actor(), inspection=inspection)
    actions = queries.actions(session, _actor(), which="all", inspection_id=inspection.id)
    return {"id": inspection.id, "status": inspection.status, "version": inspection.version,
            "result": inspection.result, "actions": [action_json(a) for a in actions]}


@api_route("/inspections/<int:inspection_id>/approve", methods=["POST"], roles=("admin",),
           summary="审批拟定等级并授予 / approve and award the grade")
def approve_inspection(inspection_id: int) -> Any:
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    grade = ops.approve_inspection(session=session, actor=_actor(), inspection=inspection,
                                   separation_of_duties=queries.separation_of_duties())
    return grade_json(session, grade)


@api_route("/inspections/<int:inspection_id>/return", methods=["POST"], roles=("admin",),
           summary="退回检查员并说明原因 / return to the inspector with a reason",
           body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
           responses={200: {"type": "object", "properties": {
               "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"}}},
               409: OBJ})
def return_inspection(inspection_id: int) -> Any:
    data = json_body()
    require_fields(data, {"reason"}, {"reason"})
    if not isinstance(data["reason"], str):
        raise ApiError(422, "invalid_input", N_("退回原因应为文字"), [{"item": "reason", "message": N_("退回原因应为文字")}])
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    ops.return_inspection(session=session, actor=_actor(), inspection=inspection, reason=data["reason"],
                          separation_of_duties=queries.separation_of_duties())
    return {"id": inspection.id, "status": inspection.status, "version": inspection.version}


@api_route("/inspections/<int:inspection_id>/reinspection", methods=["POST"], roles=STAFF,
           summary="整改期满后复查 / re-inspect after the rectification deadline", responses={201: OBJ})
def create_reinspection(inspection_id: int) -> Any:
    session = get_session()
    previous = queries.get_or_404(session, Inspection, inspection_id, _actor())
    inspection = ops.create_reinspection(session=session, actor=_actor(), previous=previous)
    return inspection_json(inspection), 201


@api_route("/inspections/<int:inspection_id>/notice.pdf", methods=["GET"], roles=STAFF,
           summary="整改通知书 PDF / rectification notice", produces="application/pdf",
           responses={200: OBJ, 409: OBJ})
def notice_pdf(inspection_id: int) -> Any:
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, inspection_id, _actor())
    actions = queries.actions(session, _actor(), which="all", inspection_id=inspection.id)
    return notice_pdf_response(session, inspection, actions, request.args.get("lang", "zh"))


@api_route("/actions/<int:action_id>", methods=["GET"], roles=("admin", "inspector", "operator"),
           summary="整改项详情 / a corrective action")
def get_action(action_id: int) -> Any:
    session = get_session()
    return action_json(queries.get_or_404(session, CorrectiveAction, action_id, _actor()))


@api_route("/actions/<int:action_id>/evidence", methods=["POST"], roles=("admin", "inspector", "operator"),
           summary="提交整改材料 / submit rectification evidence",
           body={"type": "object", "required": ["note"], "properties": {"note": {"type": "string"}}})
def action_evidence(action_id: int) -> Any:
    data = json_body()
    require_fields(data, {"note"}, {"note"})
    session = get_session()
    action = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    ops.submit_evidence(session=session, actor=_actor(), action=action, note=str(data["note"]))
    return action_json(action)


@api_route("/actions/<int:action_id>/verify", methods=["POST"], roles=STAFF,
           summary="核验整改（accept=false 退回） / verify and close, or send back",
           body={"type": "object", "properties": {"accept": {"type": "boolean"}, "reason": {"type": "string"}}})
def action_verify(action_id: int) -> Any:
    # No body means the defaults; a body that is not a JSON object is a 422, never a silent "accept".
    data = json_body() if request.get_data() else {}
    require_fields(data, {"accept", "reason"}, set())
    if not isinstance(data.get("accept", True), bool):
        raise ApiError(422, "invalid_input", "accept 应为 true 或 false",
                       [{"item": "accept", "message": "应为 true 或 false"}])
    session = get_session()
    action = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    ops.verify_action(session=session, actor=_actor(), action=action,
                      accept=bool(data.get("accept", True)), reason=data.get("reason"))
    return action_json(action)


@api_route("/certificates", methods=["POST"], roles=("admin",), summary="发放等级证书 / issue a certificate",
           body={"type": "object", "required": ["inspection_id"], "properties": {"inspection_id": {"type": "integer"}}},
           responses={201: {"type": "object", "properties": {
               "id": {"type": "integer"}, "serial": {"type": "string"}, "verify_url": {"type": "string"},
               "valid_until": {"type": "string"}}}})
def issue_certificate() -> Any:
    data = json_body()
    require_fields(data, {"inspection_id"}, {"inspection_id"})
    session = get_session()
    inspection = queries.get_or_404(session, Inspection, data["inspection_id"], _actor())
    grade = session.exec(select(Grade).where(Grade.inspection_id == inspection.id)).first()
    if grade is None:
        raise ApiError(409, "conflict", N_("该检查的等级尚未审批，不能发证"))
    certificate, created = ops.issue_certificate(session=session, actor=_actor(), grade=grade,
                                                 separation_of_duties=queries.separation_of_duties())
    return certificate_json(session, certificate), 201 if created else 200


@api_route("/certificates/public-key", methods=["GET"], is_public=True,
           summary="证书验证公钥（PEM 与 JWK） / the certificate verification key (PEM and JWK)",
           responses={200: {"type": "object", "required": ["pem", "jwk"], "properties": {
               "pem": {"type": "string"}, "jwk": {"type": "object", "required": ["kty", "crv", "x"], "properties": {
                   "kty": {"const": "OKP"}, "crv": {"const": "Ed25519"}, "x": {"type": "string"}}}}},
               404: {"type": "object"}})
def certificate_public_key() -> Any:
    from rating.signing import SigningKeyError, public_jwk, public_key_pem

    try:
        return {"pem": public_key_pem(), "jwk": public_jwk()}
    except SigningKeyError:
        raise ApiError(404, "not_found", "尚无签名密钥：还没有签发过证书。No signing key yet.") from None


@api_route("/certificates/<int:certificate_id>", methods=["GET"], roles=("admin", "inspector", "operator"),
           summary="证书详情及当前状态 / a certificate and its current status")
def get_certificate(certificate_id: int) -> Any:
    session = get_session()
    return certificate_json(session, queries.get_or_404(session, Certificate, certificate_id, _actor()))


@api_route("/certificates/<int:certificate_id>/pdf", methods=["GET"], roles=("admin", "inspector", "operator"),
           summary="证书 PDF / certificate PDF", produces="application/pdf")
def certificate_pdf(certificate_id: int) -> Any:
    session = get_session()
    return certificate_pdf_response(session, queries.get_or_404(session, Certificate, certificate_id, _actor()))


@api_route("/certificates/<int:certificate_id>/revoke", methods=["POST"], roles=("admin",),
           summary="撤销证书（须填原因） / revoke a certificate (reason required)",
           body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})
def revoke_certificate(certificate_id: int) -> Any:
    data = json_body()
    require_fields(data, {"reason"}, {"reason"})
    session = get_session()
    certificate = queries.get_or_404(session, Certificate, certificate_id, _actor())
    ops.revoke_certificate(session=session, actor=_actor(), certificate=certificate, reason=str(data["reason"]))
    return certificate_json(session, certificate)


import rating.api_lists  # noqa: E402, F401  (the paged list endpoints)
import rating.api_offline  # noqa: E402, F401  (the offline bundle and photo upload)
import rating.api_register  # noqa: E402, F401  (the public register)
import rating.api_rewards  # noqa: E402, F401  (the grade reward table)
