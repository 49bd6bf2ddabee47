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
from core.i18n import page_lang as _lang
from core.timeutil import utcnow
from forms.checklist import (
    build_checklist_class,
    checklist_answers,
    checklist_data,
    checklist_sections,
    note_name,
)
from forms.definition import DefinitionForm, attach_errors, field_name
from forms.items import answer_text, client_items
from rating import lists, queries, saving
from rating import operations as ops
from rating.checklist import parse_facts
from rating.documents import (
    NoticeRefused,
    notice_pdf_response,
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
from rating.views.common import (
    ALL,
    STAFF,
    _actor,
    _photo_dir,
    _problems,
    bp,
    flash_problems,
    paged_list,
    workflow_context,
)
from rating.workflow import INSPECTION
from scoring import Definition, validate_answers


@bp.route("/rating/inspections")
@require_roles(*STAFF)
def inspections() -> Any:
    page, count, problem, code = paged_list(lists.inspections_page)
    names = {i.facility_id: name for i, name in page.items}
    return render_template("rating/inspections.html", inspections=[i for i, _n in page.items], names=names,
                           status=request.args.get("status") or None, page=page, count=count,
                           problem=problem), code


def _photos_by_item(inspection: Inspection) -> dict[str, list[EvidencePhoto]]:
    out: dict[str, list[EvidencePhoto]] = {}
    for photo in get_session().exec(select(EvidencePhoto).where(EvidencePhoto.inspection_id == inspection.id)):
        out.setdefault(photo.item_id, []).append(photo)
    return out


_CHECKLISTS: dict[tuple[str, str, str], type[DefinitionForm]] = {}


def _checklist_class(definition: Definition) -> type[DefinitionForm]:
    key = (definition.id, definition.version, _lang())
    if key not in _CHECKLISTS:
        _CHECKLISTS[key] = build_checklist_class(definition, lang=_lang())
    return _CHECKLISTS[key]


def _checklist(item: Inspection, definition: Definition, posted: bool = False) -> DefinitionForm:
    """The checklist form: what was posted, else the saved answers and notes (with their problems)."""
    form_class = _checklist_class(definition)
    if posted:
        return form_class(formdata=request.form)
    form = form_class(data=checklist_data(definition, item.answers, item.notes))
    facts = ops.merge_facts(item.auto_facts, item.facts)
    problems = validate_answers(definition, item.answers, facts, partial=True)
    attach_errors(form, [p for p in problems if p.get("item") in item.answers], lang=_lang())
    return form


def _render_inspection(item: Inspection, form: DefinitionForm | None = None, problems: list[str] | None = None,
                       status: int = 200, return_error: str | None = None) -> Any:
    session = get_session()
    fac = session.get(Facility, item.facility_id)
    definition = get_scheme(item.scheme, item.scheme_version, session=get_session())
    form = form or _checklist(item, definition)
    grade = session.exec(select(Grade).where(Grade.inspection_id == item.id)).first()
    certificate = session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).first() if grade else None
    due = item.rectification_due_at
    can_reinspect = bool(item.is_unqualified and due and aware(due) <= utcnow()
                         and not session.exec(select(Inspection).where(Inspection.previous_inspection_id == item.id)).first())
    sections = checklist_sections(definition)
    items = [i for s in sections for i in (s.direct, *s.items)]
    return render_template(
        "rating/inspection.html", inspection=item, facility=fac, definition=definition, sections=sections,
        form=form, photos=_photos_by_item(item), lang=_lang(), answer_text=answer_text, field_name=field_name, note_name=note_name,
        relevant=definition.relevant_items(item.answers) | {s.section.id for s in sections},
        client_logic={"logic": definition.skip_logic(), "items": client_items(items, field_name),
                      "answers": item.answers},
        grade=grade, certificate=certificate, can_reinspect=can_reinspect,
        actions=queries.actions(session, _actor(), which="all", inspection_id=item.id),
        problems=problems or [], returns=queries.returns_of(session, item),
        refusal=_approval_refusal(item), return_error=return_error), status


def _approval_refusal(item: Inspection) -> str | None:
    """Why an administrator cannot approve this submitted inspection (separation of duties)."""
    user = _actor()
    if item.status != "submitted" or not user.has_role("admin"):
        return None
    found = INSPECTION.refusal(item, user, "approve", workflow_context(item))
    return found.message if found else None


@bp.route("/rating/inspections/<int:inspection_id>")
@require_roles(*STAFF)
def inspection(inspection_id: int) -> Any:
    session = get_session()
    return _render_inspection(queries.get_or_404(session, Inspection, inspection_id, _actor()))


def _save_posted(item: Inspection) -> Any:
    """Save the posted checklist (the page and its autosave): a SaveResult."""
    definition = get_scheme(item.scheme, item.scheme_version, session=get_session())
    form = _checklist(item, definition, posted=True)
    answers, notes = checklist_answers(form, definition)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    return form, saving.save(session=get_session(), actor=_actor(), inspection=item, answers=answers,
                             facts=parse_facts(definition, request.form), notes=notes, version=version)


@bp.route("/rating/inspections/<int:inspection_id>/autosave", methods=["POST"])
@require_roles(*STAFF)
def inspection_autosave(inspection_id: int) -> Any:
    """The checklist's background save (form.js; also a flush when the page is left): JSON out."""
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        _form, saved = _save_posted(item)
    except ops.RatingError as exc:
        return jsonify({"error": "invalid", "message": str(exc), "errors": exc.errors}), exc.status
    body = saved.body(_lang())
    if saved.conflict is not None:
        definition = get_scheme(item.scheme, item.scheme_version, session=get_session())
        body["shown"] = {i.id: answer_text(i, saved.answers.get(i.id), _lang()) or _("（未作答）")
                         for s in checklist_sections(definition) for i in (s.direct, *s.items)}
    return jsonify(body), saved.http_status


@bp.route("/rating/inspections/<int:inspection_id>/save", methods=["POST"])
@require_roles(*STAFF)
def inspection_save(inspection_id: int) -> Any:
    """The plain form post (no script needed): save, then show the checklist or submit."""
    if request.headers.get("Accept", "").startswith("application/json"):
        return inspection_autosave(inspection_id)
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        form, saved = _save_posted(item)
    except ops.RatingError as exc:
        session.rollback()  # the page shows the record as stored, not the refused attempt
        return _render_inspection(item, problems=_problems(exc), status=exc.status)
    if saved.conflict is not None:
        flash(_("检查记录已被他人修改，已显示最新内容；请核对后再保存。"), "error")
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    if request.form.get("then") == "submit":
        return inspection_submit(inspection_id)
    flash(_("已保存。"))
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
        flash_problems(exc)
    else:
        flash(_("照片已上传。"))
    # url_for quotes the fragment, so whatever was typed into `item` cannot split the header.
    return redirect(url_for("rating.inspection", inspection_id=item.id,
                            _anchor=f"item-{field_name(request.form.get('item', ''))}"))


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
        session.rollback()  # the page shows the record as stored, not the refused attempt
        session.refresh(item)
        return _render_inspection(item, problems=_problems(exc), status=422)
    flash(_("已提交。"), "success")
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/approve", methods=["POST"])
@require_roles("admin")
def inspection_approve(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        grade = ops.approve_inspection(session=session, actor=_actor(), inspection=item,
                                       separation_of_duties=queries.separation_of_duties())
    except ops.RatingError as exc:
        flash_problems(exc)
    else:
        flash(_("已审批：%(label)s。", label=grade.label))
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/return", methods=["POST"])
@require_roles("admin")
def inspection_return(inspection_id: int) -> Any:
    """退回并说明原因: the approver sends a submitted inspection back to the inspector."""
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        ops.return_inspection(session=session, actor=_actor(), inspection=item,
                              reason=request.form.get("reason", ""),
                              separation_of_duties=queries.separation_of_duties())
    except ops.RatingError as exc:
        return _render_inspection(item, return_error="；".join(_problems(exc)), status=exc.status)
    flash(_("已退回检查员修改；退回原因已记录。"), "success")
    return redirect(url_for("rating.inspection", inspection_id=item.id))


@bp.route("/rating/inspections/<int:inspection_id>/reinspect", methods=["POST"])
@require_roles(*STAFF)
def inspection_reinspect(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    try:
        new = ops.create_reinspection(session=session, actor=_actor(), previous=item)
    except ops.RatingError as exc:
        flash_problems(exc)
        return redirect(url_for("rating.inspection", inspection_id=item.id))
    return redirect(url_for("rating.inspection", inspection_id=new.id))


@bp.route("/rating/inspections/<int:inspection_id>/notice.pdf")
@require_roles(*STAFF)
def inspection_notice(inspection_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Inspection, inspection_id, _actor())
    rows = queries.actions(session, _actor(), which="all", inspection_id=item.id)
    try:
        return notice_pdf_response(session, item, rows, request.args.get("lang", "zh"))
    except NoticeRefused as refusal:  # never an empty notice: say why on the inspection page
        flash(refusal.message, "warning")
        return redirect(url_for("rating.inspection", inspection_id=item.id))


# --- corrective actions -------------------------------------------------------------------


