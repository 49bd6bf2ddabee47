"""Evidence API under /api/v1: photos of assessment items (multipart upload, list, delete while
draft) and the visit record. POSTs take an `Idempotency-Key` (core.idempotency), so a tablet's outbox that sends the
same upload again gets the first answer and one photo. Another organisation's assessment is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from assessment import queries
from assessment.models import AssessmentPhoto
from assessment.operations import drawn, evidence
from assessment.operations.errors import AssessmentError
from core.api import ApiError, api_route, json_body, require_fields
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_
from core.storage import get_storage
from core.timeutil import aware

READ_ROLES = ("assessor", "reviewer", "admin")

PHOTO = {"type": "object", "properties": {
    "id": {"type": "integer"}, "item": {"type": "string"}, "size": {"type": "integer"},
    "content_type": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
    "url": {"type": "string"}}}
PHOTO_UPLOAD = {"type": "object", "required": ["photo"], "properties": {
    "photo": {"type": "string", "format": "binary",
              "description": "JPEG, PNG or WebP, at most 10 MB; kept as a JPEG, long edge 1600 px, "
                             "metadata removed except the capture time"}}}


def photo_public(photo: AssessmentPhoto) -> dict[str, Any]:
    return {"id": photo.id, "item": photo.item_id, "size": photo.size, "content_type": photo.content_type,
            "created_at": photo.created_at.isoformat(),
            "url": url_for("assessment.photo", assessment_id=photo.assessment_id, photo_id=photo.id)}


def _raise(error: AssessmentError) -> None:
    raise ApiError(error.status, error.code, error.message, error.errors) from error


@api_route("/assessments/<int:assessment_id>/items/<item>/photos", methods=["POST"], roles=("assessor",),
           summary="为评估项目添加照片 / add a photo to an assessment item", body=PHOTO_UPLOAD,
           consumes="multipart/form-data", responses={201: PHOTO})
def add_assessment_photo(assessment_id: int, item: str) -> Any:
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    upload = request.files.get("photo")
    if upload is None:
        raise ApiError(422, "invalid_input", N_("请选择照片。"), [{"item": "photo", "message": N_("请选择照片。")}])
    try:
        photo = evidence.add_photo(session=db, actor=user, storage=get_storage(), assessment=assessment,
                                   definition=queries.definition_for(assessment), item_id=item,
                                   data=upload.read(), content_type=upload.mimetype or "")
    except AssessmentError as error:
        _raise(error)
    return jsonify(photo_public(photo)), 201


@api_route("/assessments/<int:assessment_id>/photos", methods=["GET"], roles=READ_ROLES,
           summary="评估的照片 / the photos of an assessment",
           responses={200: {"type": "object", "properties": {"photos": {"type": "array", "items": PHOTO}}}})
def list_assessment_photos(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, current_actor())
    return jsonify({"photos": [photo_public(p) for p in evidence.photos_of(db, assessment)]})


@api_route("/assessments/<int:assessment_id>/photos/<int:photo_id>", methods=["DELETE"], roles=("assessor",),
           summary="删除草稿评估的照片 / delete a photo of a draft assessment", responses={204: {"type": "object"}})
def delete_assessment_photo(assessment_id: int, photo_id: int) -> Any:
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    photo = queries.get_photo(db, assessment, photo_id)
    try:
        evidence.delete_photo(session=db, actor=user, storage=get_storage(), assessment=assessment, photo=photo)
    except AssessmentError as error:
        _raise(error)
    return "", 204


PLACE = {"type": "object", "additionalProperties": False, "properties": {
    "status": {"type": "string", "enum": ["granted", "denied", "unavailable", "unsupported"]},
    "latitude": {"type": "number"}, "longitude": {"type": "number"},
    "accuracy": {"type": "number", "minimum": 0, "description": "metres"},
    "at": {"type": "string", "format": "date-time"}}}
VISIT_BODY = {
    "type": "object", "required": ["client_id", "started_at", "ended_at"],
    "properties": {
        "client_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                      "description": "the device's name for this visit; a resend with the same totals changes nothing"},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": "string", "format": "date-time"},
        "sections": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 86400},
                     "description": "section id → seconds the section was open in front of the assessor (totals)"},
        "location": PLACE | {"description": "where the device was at the start of the visit"},
        "end_location": PLACE | {"description": "where it was at the end (the last page opened); "
                                                "a later report replaces an earlier one"},
    },
    "additionalProperties": False,
}
VISIT = {"type": "object", "properties": {
    "client_id": {"type": "string"}, "started_at": {"type": "string"}, "ended_at": {"type": "string"},
    "sections": {"type": "object"}, "location_status": {"type": "string"},
    "end_location_status": {"type": "string"}}}


@api_route("/assessments/<int:assessment_id>/visit", methods=["POST"], roles=("assessor",),
           summary="记录访视（时间、各分项用时、位置）/ record the visit (times, time per section, location)",
           body=VISIT_BODY, responses={200: VISIT})
def record_assessment_visit(assessment_id: int) -> Any:
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    try:
        visit = evidence.parse_visit(json_body())
        record = evidence.record_visit(session=db, actor=user, assessment=assessment,
                                       definition=queries.definition_for(assessment), visit=visit)
    except AssessmentError as error:
        _raise(error)
    return jsonify({"client_id": record.client_id, "started_at": aware(record.started_at).isoformat(),
                    "ended_at": aware(record.ended_at).isoformat(), "sections": record.section_seconds,
                    "location_status": record.location_status,
                    "end_location_status": record.end_location_status})


DRAWN_BODY = {
    "type": "object", "required": ["role", "image"],
    "properties": {
        "role": {"type": "string", "enum": ["elder", "guardian", "self"],
                 "description": "elder or guardian (drawn with an assessor), or self: the caller's own mark, "
                                "accepted while the caller's password signature covers the current answers"},
        "signer_name": {"type": "string", "maxLength": 100, "description": "the guardian's name (elder: the elder's)"},
        "image": {"type": "string", "description": "data:image/png;base64,… as a canvas exports it"},
    },
    "additionalProperties": False,
}
DRAWN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "role": {"type": "string"}, "signer_name": {"type": "string"},
    "answers_hash": {"type": "string"}, "drawn_at": {"type": "string", "format": "date-time"},
    "current": {"type": "boolean", "description": "false once an answer changed after the drawing (void)"}}}


def drawn_public(drawing: Any, assessment: Any) -> dict[str, Any]:
    return {"id": drawing.id, "role": drawing.role, "signer_name": drawing.signer_name,
            "answers_hash": drawing.answers_hash, "drawn_at": aware(drawing.drawn_at).isoformat(),
            "current": drawn.is_current(drawing, assessment)}


@api_route("/assessments/<int:assessment_id>/drawn-signatures", methods=["POST"], roles=("assessor", "reviewer"),
           summary="手写签名（老年人、代理人或本人的签名图）/ a drawn signature", body=DRAWN_BODY,
           responses={201: DRAWN})
def add_drawn_signature(assessment_id: int) -> Any:
    db, user = get_session(), current_actor()
    assessment = queries.get_assessment(db, assessment_id, user)
    data = json_body()
    require_fields(data, set(DRAWN_BODY["properties"]), set(DRAWN_BODY["required"]))
    name = data.get("signer_name") or ""
    if not isinstance(name, str) or not isinstance(data.get("role"), str):
        raise ApiError(422, "invalid_input", N_("输入有误"), [{"item": "signer_name", "message": N_("应为字符串")}])
    try:
        drawing = drawn.add_drawn_signature(session=db, actor=user, storage=get_storage(), assessment=assessment,
                                            role=data["role"], signer_name=name,
                                            data=drawn.png_from_data_url(data.get("image")))
    except AssessmentError as error:
        _raise(error)
    return jsonify(drawn_public(drawing, assessment)), 201


@api_route("/assessments/<int:assessment_id>/drawn-signatures", methods=["GET"], roles=READ_ROLES,
           summary="评估的手写签名 / the drawn signatures of an assessment",
           responses={200: {"type": "object", "properties": {"drawn_signatures": {"type": "array", "items": DRAWN}}}})
def list_drawn_signatures(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, current_actor())
    return jsonify({"drawn_signatures": [drawn_public(d, assessment) for d in drawn.drawn_signatures_of(db, assessment)]})
