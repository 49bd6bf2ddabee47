"""Evidence on the assessment pages: photos of items (upload without script, delete, view) and
signatures drawn by the elder or guardian (static/js/signature.js fills the form's image field).

The fill page's script (static/js/photos.js) uploads through the API route instead, with an
Idempotency-Key; these routes are the same operation for a browser without script."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from assessment import queries
from assessment.operations import drawn, evidence
from assessment.operations.errors import AssessmentError
from assessment.views.common import READ, WRITE, _user, bp
from core.auth import require_roles
from core.db import get_session
from core.errors import translate
from core.storage import get_storage
from forms.definition import field_name


def _back_to_item(assessment_id: int, item_id: str) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    definition = queries.definition_for(assessment)
    section = definition.section_of(item_id).id if item_id in definition.items else None
    # url_for quotes the fragment, so whatever was typed into `item` cannot split the header.
    return redirect(url_for("assessment.fill", assessment_id=assessment_id, section=section,
                            _anchor=f"item-{field_name(item_id)}" if section else None))


@bp.route("/assessments/<int:assessment_id>/photos", methods=["POST"])
@require_roles(*WRITE)
def photo_upload(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    item_id = request.form.get("item", "")
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        flash(_("请选择照片。"), "error")
        return _back_to_item(assessment.id or 0, item_id)
    try:
        evidence.add_photo(session=db, actor=_user(), storage=get_storage(), assessment=assessment,
                           definition=queries.definition_for(assessment), item_id=item_id,
                           data=upload.read(), content_type=upload.mimetype or "")
    except AssessmentError as error:
        for problem in error.errors or [{"message": error.message}]:
            flash(translate(problem["message"]), "error")
    else:
        flash(_("照片已上传。"), "success")
    return _back_to_item(assessment.id or 0, item_id)


@bp.route("/assessments/<int:assessment_id>/photos/<int:photo_id>/delete", methods=["POST"])
@require_roles(*WRITE)
def photo_delete(assessment_id: int, photo_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    photo = queries.get_photo(db, assessment, photo_id)
    item_id = photo.item_id
    try:
        evidence.delete_photo(session=db, actor=_user(), storage=get_storage(), assessment=assessment, photo=photo)
    except AssessmentError as error:
        flash(translate(error.message), "error")
    else:
        flash(_("照片已删除。"), "success")
    return _back_to_item(assessment.id or 0, item_id)


@bp.route("/assessments/<int:assessment_id>/photos/<int:photo_id>")
@require_roles(*READ)
def photo(assessment_id: int, photo_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    item = queries.get_photo(db, assessment, photo_id)
    try:  # photos are small once resized; read whole, no file handle stays open
        data = get_storage().get(item.storage_key)
    except FileNotFoundError:
        abort(404)
    return Response(data, mimetype=item.content_type, headers={"Cache-Control": "private, no-store"})


@bp.route("/assessments/<int:assessment_id>/drawn-signatures", methods=["POST"])
@require_roles("assessor", "reviewer")
def drawn_signature(assessment_id: int) -> Any:
    """The elder's or guardian's signature drawn on the review or record page."""
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    back = "assessment.review" if assessment.is_editable else "assessment.detail"
    try:
        drawn.add_drawn_signature(session=db, actor=_user(), storage=get_storage(), assessment=assessment,
                                  role=request.form.get("role", ""), signer_name=request.form.get("signer_name", ""),
                                  data=drawn.png_from_data_url(request.form.get("image", "")))
    except AssessmentError as error:
        for problem in error.errors or [{"message": error.message}]:
            flash(translate(problem["message"]), "error")
    else:
        flash(_("签名已保存。"), "success")
    return redirect(url_for(back, assessment_id=assessment.id, _anchor="drawn-signatures"))


@bp.route("/assessments/<int:assessment_id>/drawn-signatures/<int:drawn_signature_id>.png")
@require_roles(*READ)
def drawn_signature_image(assessment_id: int, drawn_signature_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    drawing = next((d for d in drawn.drawn_signatures_of(db, assessment) if d.id == drawn_signature_id), None)
    if drawing is None:
        abort(404)
    try:
        data = get_storage().get(drawing.storage_key)
    except FileNotFoundError:
        abort(404)
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.route("/assessments/<int:assessment_id>/visit", methods=["POST"])
@require_roles(*WRITE)
def visit_record(assessment_id: int) -> Any:
    """The fill page's visit report (static/js/visit.js; JSON, CSRF header): the same operation
    as the API's, answered as JSON; a lapsed login is the login redirect, as for the autosave."""
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    try:
        record = evidence.record_visit(session=db, actor=_user(), assessment=assessment,
                                       definition=queries.definition_for(assessment),
                                       visit=evidence.parse_visit(request.get_json(silent=True)))
    except AssessmentError as error:
        return jsonify({"error": error.code, "message": translate(error.message),
                        "errors": [{"item": e["item"], "message": translate(e["message"])} for e in error.errors]}), error.status
    return jsonify({"client_id": record.client_id, "location_status": record.location_status})
