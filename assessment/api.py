"""Assessment API under /api/v1: elders, assessments, answers, submit, sign, report.

Every lookup is scoped: another organisation's elder or assessment is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from accounts import throttle
from accounts.models import Organisation
from accounts.queries import visible_org_ids
from assessment import operations as ops
from assessment import queries, saving
from assessment.documents import report_context
from assessment.presenters import assessment_public, elder_public
from audit import record_event
from core.api import ApiError, api_route, date_field, json_body, require_fields
from core.auth import current_actor
from core.crypto import cipher
from core.db import get_session
from core.i18n import N_
from core.unitofwork import keep_writes

READ_ROLES = ("assessor", "reviewer", "admin")
REVEAL_ROLES = ("reviewer", "admin")

ERROR_ITEMS = {"type": "array", "items": {"type": "object", "properties": {
    "item": {"type": ["string", "null"]}, "message": {"type": "string"}}}}
ELDER_BODY = {
    "type": "object",
    "required": ["name", "gender", "birth_date", "id_number"],
    "properties": {
        "name": {"type": "string"},
        "gender": {"type": "string", "enum": ["male", "female"]},
        "birth_date": {"type": "string", "format": "date"},
        "id_number": {"type": "string", "description": "GB 11643, 18 characters"},
        "phone": {"type": "string"},
        "address": {"type": "string"},
        "community": {"type": "string"},
        "contact_name": {"type": "string"},
        "contact_phone": {"type": "string"},
        "legal_basis": {"type": "string", "enum": ["statutory", "consent"]},
        "consent_by": {"type": "string"},
        "consent_at": {"type": "string", "format": "date"},
        "organisation_id": {"type": "integer", "description": "defaults to the caller's organisation"},
        "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90,
                     "description": "the address's coordinates (WGS 84), optional: both or neither"},
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
    },
    "additionalProperties": False,
}
ELDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "gender": {"type": "string"},
    "birth_date": {"type": "string"}, "id_number": {"type": "string", "description": "masked"},
    "phone": {"type": "string", "description": "masked"}, "address": {"type": "string"},
    "organisation_id": {"type": "integer"}}}
ASSESSMENT_BODY = {
    "type": "object", "required": ["elder_id"],
    "properties": {"elder_id": {"type": "integer"},
                   "instrument": {"type": "string", "default": "gbt42195-2022"},
                   "reason": {"type": "string", "enum": ["initial", "routine", "immediate", "review",
                                                         "首次评估", "常规评估", "即时评估", "复评"]},
                   "place": {"type": "string"}},
    "additionalProperties": False,
}
ASSESSMENT_CREATED = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"}}}
ANSWERS_BODY = {
    "type": "object", "required": ["answers", "version"],
    "properties": {"answers": {"type": "object", "description": "item id → value; null clears"},
                   "version": {"type": "integer"}, "section": {"type": "string"}},
    "additionalProperties": False,
}
ANSWERS_SAVED = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"},
    "problems": ERROR_ITEMS, "relevant": {"type": "array", "items": {"type": "string"}},
    "saved_at": {"type": ["string", "null"], "format": "date-time"}}}
SAVE_CONFLICT = {"type": "object", "description": "stale version: the current version and the server's answers",
                 "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                "version": {"type": "integer"}, "status": {"type": "string"},
                                "answers": {"type": "object"}}}
RESULT = {"type": "object", "description": "instrument, version, total, max_total, domains, "
          "preliminary_level, level, adjustments, explanation, warnings"}
SUBMIT_BODY = {"type": "object", "properties": {"version": {"type": "integer"}},
               "additionalProperties": False}
SUBMITTED = {"type": "object", "properties": {"status": {"type": "string"}, "result": RESULT}}
SIGN_BODY = {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}},
             "additionalProperties": False}
AMEND_BODY = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}},
              "additionalProperties": False}
REVEAL_BODY = {"type": "object", "required": ["field"], "properties": {
    "field": {"type": "string", "enum": ["id_number", "phone", "contact_phone"]},
    "reason": {"type": "string"}}, "additionalProperties": False}
ASSESSMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"},
    "answers": {"type": "object"}, "result": RESULT,
    "signatures": {"type": "array", "items": {"type": "object"}},
    "history": {"type": "array", "items": {"type": "object"}},
    "entitlement": {"type": ["object", "null"]}}}


def _raise(error: ops.AssessmentError) -> None:
    raise ApiError(error.status, error.code, error.message, error.errors) from error


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(422, "invalid_input", N_("输入有误"), [{"item": key, "message": f"{key} 应为字符串"}])
    return value


@api_route("/elders", methods=["POST"], roles=("assessor", "admin"), summary="登记老年人 / register an elder",
           body=ELDER_BODY, responses={201: ELDER, 409: {"type": "object"}})
def create_elder() -> Any:
    data = json_body()
    require_fields(data, set(ELDER_BODY["properties"]), set(ELDER_BODY["required"]))
    db, user = get_session(), current_actor()
    org_id = data.get("organisation_id") or user.organisation_id
    if not isinstance(org_id, int) or org_id not in visible_org_ids(db, user):
        raise ApiError(422, "invalid_input", N_("不能在该机构登记"),
                       [{"item": "organisation_id", "message": N_("机构不存在或不在您的管辖范围内")}])
    organisation = db.get(Organisation, org_id)
    elder_input = ops.ElderInput(
        name=_text(data, "name"), gender=_text(data, "gender"),
        birth_date=date_field(data.get("birth_date"), "birth_date"), id_number=_text(data, "id_number"),
        phone=_text(data, "phone"), address=_text(data, "address"), community=_text(data, "community"),
        contact_name=_text(data, "contact_name"), contact_phone=_text(data, "contact_phone"),
        legal_basis=_text(data, "legal_basis") or "statutory", consent_by=_text(data, "consent_by"),
        consent_at=date_field(data.get("consent_at"), "consent_at"),
        latitude=data.get("latitude"), longitude=data.get("longitude"))
    try:
        elder = ops.register_elder(session=db, actor=user, organisation=organisation, data=elder_input,
                                   cipher=cipher(), duplicate_scope=visible_org_ids(db, user))
    except ops.DuplicateElderError as error:
        body = {"error": "duplicate", "message": error.message, "errors": error.errors,
                "existing_id": error.existing.id}
        return jsonify(body), 409
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify(elder_public(elder)), 201


ELDER_LIST = {"type": "object", "properties": {"elders": {"type": "array", "items": ELDER}}}


@api_route("/elders/search", methods=["POST"], roles=READ_ROLES,
           summary="按完整身份证号（精确）、脱敏号或姓名查找 / search, full ID number in the body",
           body={"type": "object", "required": ["q"], "properties": {"q": {"type": "string"}},
                 "additionalProperties": False},
           responses={200: ELDER_LIST})
def search_elders() -> Any:
    data = json_body()
    require_fields(data, {"q"}, {"q"})
    found = queries.search_elders(get_session(), current_actor(), _text(data, "q"))
    return jsonify({"elders": [elder_public(e) for e in found]})


@api_route("/elders/<int:elder_id>", methods=["GET"], roles=READ_ROLES,
           summary="老年人信息（脱敏）/ an elder, masked", responses={200: ELDER})
def get_elder(elder_id: int) -> Any:
    elder = queries.get_elder(get_session(), elder_id, current_actor())
    return jsonify(elder_public(elder))


@api_route("/elders/<int:elder_id>/reveal", methods=["POST"], roles=REVEAL_ROLES,
           summary="查看完整身份证号或电话（记入审计日志）/ reveal one sensitive field (audited)",
           body=REVEAL_BODY, responses={200: {"type": "object"}})
def reveal_elder(elder_id: int) -> Any:
    db, user = get_session(), current_actor()
    elder = queries.get_elder(db, elder_id, user)
    data = json_body()
    require_fields(data, {"field", "reason"}, {"field"})
    try:
        value = ops.reveal_elder_field(session=db, actor=user, elder=elder, field_name=_text(data, "field"),
                                       cipher=cipher(), reason=_text(data, "reason"))
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify({"field": data["field"], "value": value})


@api_route("/assessments", methods=["POST"], roles=("assessor",),
           summary="开始评估；已有进行中的同一工具评估时返回它（200）/ start an assessment, or get the open one (200)",
           body=ASSESSMENT_BODY, responses={201: ASSESSMENT_CREATED, 200: ASSESSMENT_CREATED})
def create_assessment() -> Any:
    data = json_body()
    require_fields(data, set(ASSESSMENT_BODY["properties"]), {"elder_id"})
    db, user = get_session(), current_actor()
    elder = queries.get_elder(db, data["elder_id"], user)
    definitions = queries.assessment_definitions()
    instrument = data.get("instrument") or next(iter(definitions))
    definition = definitions.get(instrument) if isinstance(instrument, str) else None
    if definition is None:
        raise ApiError(422, "invalid_input", N_("未知的评估工具"), [
            {"item": "instrument", "message": "可用：" + "、".join(definitions)}])
    try:
        assessment, is_new = ops.open_assessment(session=db, actor=user, elder=elder, definition=definition,
                                                 reason=_text(data, "reason") or "initial",
                                                 place=_text(data, "place"))
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify({"id": assessment.id, "status": assessment.status, "version": assessment.version}), (
        201 if is_new else 200)


@api_route("/assessments/<int:assessment_id>", methods=["GET"], roles=READ_ROLES,
           summary="评估详情：答案、状态、结果、签名、历史 / an assessment", responses={200: ASSESSMENT})
def get_assessment(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, current_actor())
    return jsonify(assessment_public(db, assessment))


@api_route("/assessments/<int:assessment_id>/answers", methods=["PUT"], roles=("assessor",),
           summary="保存答案（可部分保存，带版本号做乐观锁）/ save answers (partial; optimistic lock)",
           body=ANSWERS_BODY, responses={200: ANSWERS_SAVED, 409: SAVE_CONFLICT})
def put_answers(assessment_id: int) -> Any:
    data = json_body()
    require_fields(data, {"answers", "version", "section"}, {"answers", "version"})
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    definition = queries.definition_for(assessment)
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "invalid_input", "version 应为整数", [{"item": "version", "message": "应为整数"}])
    section = data.get("section") if isinstance(data.get("section"), str) else None
    try:
        saved = saving.save(session=db, actor=user, assessment=assessment, definition=definition,
                            answers=data["answers"], version=version, section=section)
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify({"id": assessment.id, **saved.body()}), saved.http_status


@api_route("/assessments/<int:assessment_id>/submit", methods=["POST"], roles=("assessor",),
           summary="提交并计分（重复提交只算一次）/ submit and score (idempotent)",
           body=SUBMIT_BODY, responses={200: SUBMITTED, 409: {"type": "object"}})
def submit_assessment(assessment_id: int) -> Any:
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_json", N_("请求体必须是 JSON 对象。"))
    require_fields(data, {"version"}, set())
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    try:
        ops.submit_assessment(session=db, actor=user, assessment=assessment,
                              definition=queries.definition_for(assessment), version=data.get("version"))
    except ops.ConflictError as error:
        if assessment.status == "draft":
            return jsonify({"error": "conflict", "message": error.public_message(), "errors": [],
                            **error.extra()}), 409
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify({"id": assessment.id, "status": assessment.status, "version": assessment.version,
                    "result": assessment.result})


@api_route("/assessments/<int:assessment_id>/sign", methods=["POST"], roles=("assessor", "reviewer"),
           summary="评估员签名或审核员审核（需再次输入密码）/ sign as assessor or approve as reviewer",
           body=SIGN_BODY, responses={200: ASSESSMENT})
def sign_assessment(assessment_id: int) -> Any:
    data = json_body()
    require_fields(data, {"password"}, {"password"})
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    wait = throttle.retry_after(user.username, request.remote_addr)
    if wait:
        raise ApiError(429, "too_many_attempts", throttle.message(wait))
    try:
        ops.sign_assessment(session=db, actor=user, assessment=assessment, password=_text(data, "password"),
                            required_signatures=queries.required_signatures(),
                            separation_of_duties=queries.separation_of_duties(),
                            qualification_required=queries.qualification_required())
    except ops.AssessmentError as error:
        if error.code == "bad_password":
            throttle.note_failure(user.username, request.remote_addr)
        keep_writes()  # keep the audit record of a failed attempt
        _raise(error)
    return jsonify(assessment_public(db, assessment))


@api_route("/assessments/<int:assessment_id>/amend", methods=["POST"], roles=("assessor", "reviewer"),
           summary="更正已锁定的评估：生成新版本（必须填写原因）/ amend a locked assessment",
           body=AMEND_BODY, responses={201: ASSESSMENT_CREATED})
def amend_assessment(assessment_id: int) -> Any:
    data = json_body()
    require_fields(data, {"reason"}, {"reason"})
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    try:
        amendment = ops.amend_assessment(session=db, actor=user, assessment=assessment,
                                         reason=_text(data, "reason"))
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify({"id": amendment.id, "status": amendment.status, "version": amendment.version,
                    "revision": amendment.revision, "amends_id": amendment.amends_id}), 201


@api_route("/assessments/<int:assessment_id>/return", methods=["POST"], roles=("reviewer",),
           summary="审核员退回并说明原因：回到草稿，签名作废 / return to the assessors with a reason",
           body=AMEND_BODY, responses={200: ASSESSMENT, 409: {"type": "object"}})
def return_assessment(assessment_id: int) -> Any:
    data = json_body()
    require_fields(data, {"reason"}, {"reason"})
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    try:
        ops.return_assessment(session=db, actor=user, assessment=assessment, reason=_text(data, "reason"),
                              separation_of_duties=queries.separation_of_duties())
    except ops.AssessmentError as error:
        _raise(error)
    return jsonify(assessment_public(db, assessment))


@api_route("/assessments/<int:assessment_id>/report.pdf", methods=["GET"], roles=READ_ROLES,
           summary="评估报告 PDF（身份证号脱敏）/ the report as PDF", produces="application/pdf",
           responses={200: {"type": "string", "format": "binary"}, 409: {"type": "object"}})
def assessment_report(assessment_id: int) -> Any:
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    if assessment.result is None:
        raise ApiError(409, "not_submitted", N_("评估尚未提交，没有报告。"))
    pdf = report_pdf(db, assessment)
    return pdf_response(pdf, f"assessment-{assessment.id}.pdf")


def report_pdf(db: Any, assessment: Any) -> bytes:
    """Render the report; the download of personal data is audit-logged (the request's unit of work commits)."""
    from reports import render_pdf

    pdf = render_pdf("assessment_report.html", report_context(db, assessment, queries.definition_for(assessment)))
    record_event(session=db, action="assessment.report.download", target=assessment)
    return pdf


def pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


import assessment.api_evidence  # noqa: E402, F401  (photos, visit record, drawn signatures)
import assessment.api_lists  # noqa: E402, F401  (the paged list endpoints)
import assessment.api_offline  # noqa: E402, F401  (the offline bundle)
