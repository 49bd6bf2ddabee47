"""Inspection pages: the checklist with autosave and photos, submit, approve, re-inspect, notice."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import select

from core.auth import require_roles
from core.db import get_session
from core.timeutil import utcnow
from rating import operations as ops
from rating import queries
from rating.checklist import build_sections, parse_form
from rating.documents import (
    notice_context,
)
from rating.models import (
    Certificate,
    EvidencePhoto,
    Facility,
    Grade,
    Inspection,
)
from rating.operations.actions import aware
from rating.schemes import get_scheme
from rating.views.common import ALL, STAFF, _actor, _photo_dir, _problems, bp


@bp.route("/rating/inspections")
@require_roles(*STAFF)
def inspections() -> Any:
    session = get_session()
    status = request.args.get("status") or None
    rows = queries.inspections(session, _actor(), status=status)
    names = {f.id: f.name for f in queries.facilities(session, _actor())}
    return render_template("rating/inspections.html", inspections=rows, names=names, status=status)


def _photos_by_item(inspection: Inspection) -> dict[str, list[EvidencePhoto]]:
    out: dict[str, list[EvidencePhoto]] = {}
    for photo in get_session().exec(select(EvidencePhoto).where(EvidencePhoto.inspection_id == inspection.id)):
        out.setdefault(photo.item_id, []).append(photo)
    return out


@bp.route("/rating/inspections/<int:inspection_id>")
@require_roles(*STAFF)
def inspection(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    fac = session.get(Facility, item.facility_id)
    definition = get_scheme(item.scheme, item.scheme_version, session=session)
    sections = build_sections(definition, item.answers, item.notes, _photos_by_item(item))
    grade = session.exec(select(Grade).where(Grade.inspection_id == item.id)).first()
    certificate = session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).first() if grade else None
    due = item.rectification_due_at
    can_reinspect = bool(item.is_unqualified and due and aware(due) <= utcnow()
                         and not session.exec(select(Inspection).where(Inspection.previous_inspection_id == item.id)).first())
    return render_template("rating/inspection.html", inspection=item, facility=fac, definition=definition,
                           sections=sections, grade=grade, certificate=certificate, can_reinspect=can_reinspect,
                           actions=queries.actions(session, _actor(), which="all", inspection_id=item.id),
                           problems=[])


@bp.route("/rating/inspections/<int:inspection_id>/save", methods=["POST"])
@require_roles(*STAFF)
def inspection_save(inspection_id: int) -> Any:
    """Autosave (fetch, answers JSON) and the plain form post share this view."""
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    definition = get_scheme(item.scheme, item.scheme_version, session=session)
    answers, facts, notes = parse_form(definition, request.form)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        problems = ops.save_answers(session=session, actor=_actor(), inspection=item, answers=answers,
                                    facts=facts, notes=notes, version=version)
    except ops.VersionConflict as exc:
        if wants_json:
            return jsonify({"error": "conflict", "message": str(exc), "version": exc.current}), 409
        flash(_("检查记录已被他人修改，已显示最新内容；请核对后再保存。"), "error")
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    except ops.RatingError as exc:
        if wants_json:
            return jsonify({"error": "invalid", "message": str(exc), "errors": exc.errors}), exc.status
        for p in _problems(exc):
            flash(p, "error")
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    session.commit()
    if wants_json:
        return jsonify({"version": item.version, "problems": problems})
    flash(_("已保存。"))
    if request.form.get("then") == "submit":
        return inspection_submit(inspection_id)
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/photos", methods=["POST"])
@require_roles(*STAFF)
def inspection_photo(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        flash(_("请选择照片。"), "error")
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    try:
        ops.save_photo(session=session, actor=_actor(), storage=_photo_dir(), organisation_id=item.organisation_id,
                       data=upload.read(), content_type=upload.mimetype or "", inspection=item,
                       item_id=request.form.get("item", ""))
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
    else:
        session.commit()
        flash(_("照片已上传。"))
    # url_for quotes the fragment, so whatever was typed into `item` cannot split the header.
    return redirect(url_for("rating.inspection", inspection_id=item.id,
                            _anchor=f"item-{request.form.get('item', '')}"))


@bp.route("/rating/photos/<int:photo_id>")
@require_roles(*ALL)
def photo(photo_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, EvidencePhoto, photo_id, _actor())
    try:  # photos are small once resized; read whole, no file handle stays open
        data = _photo_dir().get(f"rating_photos/{item.organisation_id}/{item.stored_name}")
    except FileNotFoundError:
        abort(404)
    return Response(data, mimetype=item.content_type,
                    headers={"Cache-Control": "private, no-store"})


@bp.route("/rating/inspections/<int:inspection_id>/submit", methods=["POST"])
@require_roles(*STAFF)
def inspection_submit(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        ops.submit_inspection(session=session, actor=_actor(), inspection=item)
    except ops.RatingError as exc:
        session.rollback()
        fac = session.get(Facility, item.facility_id)
        definition = get_scheme(item.scheme, item.scheme_version, session=session)
        return render_template("rating/inspection.html", inspection=item, facility=fac, definition=definition,
                               sections=build_sections(definition, item.answers, item.notes, _photos_by_item(item)),
                               grade=None, certificate=None, can_reinspect=False, actions=[],
                               problems=_problems(exc)), 422
    session.commit()
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/approve", methods=["POST"])
@require_roles("admin")
def inspection_approve(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        grade = ops.approve_inspection(session=session, actor=_actor(), inspection=item)
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
    else:
        session.commit()
        flash(_("已审批：%(label)s。", label=grade.label))
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/reinspect", methods=["POST"])
@require_roles(*STAFF)
def inspection_reinspect(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        new = ops.create_reinspection(session=session, actor=_actor(), previous=item)
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    session.commit()
    return redirect(url_for("rating.inspection", inspection_id=new.id))


@bp.route("/rating/inspections/<int:inspection_id>/notice.pdf")
@require_roles(*STAFF)
def inspection_notice(inspection_id: int) -> Any:
    from reports import render_pdf

    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    if item.status not in ("submitted", "approved"):
        abort(404)
    rows = queries.actions(session, _actor(), which="all", inspection_id=item.id)
    pdf = render_pdf("rectification_notice.html", notice_context(session, item, rows))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=notice-{item.id}.pdf"})


# --- corrective actions -------------------------------------------------------------------


