"""Pages for elders and assessments: registry, the section-per-page form with autosave, result,
signing, review, amendment, reassessment lists, entitlements and documents.

Views are thin: parse, call an operation, commit once, redirect.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from accounts.models import Organisation
from accounts.queries import visible_org_ids, visible_organisations
from assessment import documents, queries
from assessment import operations as ops
from assessment.api import pdf_response, report_pdf
from assessment.cli import register as register_cli
from assessment.documents import blank_form_context
from assessment.forms import AmendForm, ElderForm, SignForm, StartForm
from assessment.models import GENDERS, LEGAL_BASES, REASONS, STATUSES, Assessment, Elder
from assessment.presenters import domain_rows, entitlement_public, history_public, money
from core.auth import require_roles
from core.crypto import cipher
from core.db import EditConflict, get_session
from core.navigation import register_home_card, register_nav
from forms.common import choices
from forms.definition import (
    answers_from_form,
    attach_errors,
    build_form_class,
    field_name,
    form_data_from_answers,
)
from scoring import Definition, validate_answers

bp = Blueprint("assessment", __name__, cli_group="assessment")
register_cli(bp)

READ = ("assessor", "reviewer", "admin")
WRITE = ("assessor",)
REVEAL = ("reviewer", "admin")

register_nav("assessment.index", _l("评估"), roles=READ, order=10)
register_nav("assessment.elders", _l("老年人"), roles=READ, order=11)
register_home_card("assessment.elders", _l("老年人登记与查找"), _l("按姓名或身份证号查找，登记新老人"),
                   roles=READ, order=10)
register_home_card("assessment.index", _l("能力评估"), _l("继续草稿、签名审核、查看结果"), roles=READ,
                   order=11)
register_home_card("assessment.due", _l("复评提醒"), _l("即将到期和已逾期的复评"), roles=READ, order=12)
register_home_card("assessment.entitlements", _l("等级待遇表"), _l("各等级对应的服务与每月补贴"),
                   roles=("admin",), order=40)


def _user() -> Any:
    return current_user._get_current_object()


def _lang() -> str:
    from flask_babel import get_locale

    return "en" if str(get_locale() or "zh") == "en" else "zh"


# --- elders -------------------------------------------------------------------------------


@bp.route("/elders", methods=["GET", "POST"])
@require_roles(*READ)
def elders() -> Any:
    # The search form posts, so a full ID number typed into it never lands in a URL or access log.
    db = get_session()
    if request.method == "POST" and not FlaskForm().validate():
        abort(400)
    q = request.values.get("q", "").strip()
    found = queries.search_elders(db, _user(), q)
    return render_template("assessment/elders.html", elders=found, q=q, genders=GENDERS)


def _elder_form(db: Any, elder: Elder | None = None) -> ElderForm:
    form = ElderForm(obj=None)
    orgs = visible_organisations(db, _user())
    form.organisation_id.choices = choices((o.id, o.name) for o in orgs)
    if request.method == "GET":
        form.organisation_id.data = elder.organisation_id if elder else _user().organisation_id
        if elder is not None:
            form.name.data, form.gender.data = elder.name, elder.gender
            form.birth_date.data, form.address.data = elder.birth_date, elder.address
            form.community.data, form.contact_name.data = elder.community, elder.contact_name
            form.legal_basis.data, form.consent_by.data = elder.legal_basis, elder.consent_by
            form.consent_at.data = elder.consent_at
    return form


def _elder_input(form: ElderForm, elder: Elder | None) -> ops.ElderInput:
    def keep(typed: str | None, enc: str | None) -> str:
        # On edit a blank sensitive field means "unchanged": the full value is never sent to the page.
        if elder is not None and not (typed or "").strip():
            return cipher().decrypt(enc) or ""
        return typed or ""

    return ops.ElderInput(
        name=form.name.data or "", gender=form.gender.data or "", birth_date=form.birth_date.data,
        id_number=keep(form.id_number.data, elder.id_number_enc if elder else None),
        phone=keep(form.phone.data, elder.phone_enc if elder else None),
        address=form.address.data or "", community=form.community.data or "",
        contact_name=form.contact_name.data or "",
        contact_phone=keep(form.contact_phone.data, elder.contact_phone_enc if elder else None),
        legal_basis=form.legal_basis.data or "", consent_by=form.consent_by.data or "",
        consent_at=form.consent_at.data)


def _form_problems(form: FlaskForm) -> list[dict[str, str]]:
    return [{"item": name, "message": "；".join(str(e) for e in errs)} for name, errs in form.errors.items()]


@bp.route("/elders/new", methods=["GET", "POST"])
@require_roles("assessor", "admin")
def elder_new() -> Any:
    return _elder_edit(None)


@bp.route("/elders/<int:elder_id>/edit", methods=["GET", "POST"])
@require_roles("assessor", "admin")
def elder_edit(elder_id: int) -> Any:
    return _elder_edit(queries.get_elder(get_session(), elder_id, _user()))


def _elder_edit(elder: Elder | None) -> Any:
    db = get_session()
    form = _elder_form(db, elder)
    problems: list[dict[str, str]] = []
    duplicate: Elder | None = None
    conflict = False
    if request.method == "POST":
        if not form.validate_on_submit():
            problems = _form_problems(form)
        else:
            org_id = form.organisation_id.data
            if org_id not in visible_org_ids(db, _user()):
                abort(404)
            try:
                if elder is None:
                    elder = ops.register_elder(
                        session=db, actor=_user(), organisation=db.get(Organisation, org_id),
                        data=_elder_input(form, None), cipher=cipher(),
                        duplicate_scope=visible_org_ids(db, _user()))
                    message = _("已登记。")
                else:
                    elder.organisation_id = org_id
                    ops.update_elder(session=db, actor=_user(), elder=elder,
                                     data=_elder_input(form, elder), cipher=cipher(),
                                     duplicate_scope=visible_org_ids(db, _user()),
                                     version=request.form.get("version", type=int))
                    message = _("已保存。")
            except EditConflict:
                db.rollback()
                conflict = True
                problems = [{"item": None, "message": _(
                    "这位老人的信息刚被其他人修改过。您填写的内容保留在下面；请核对最新信息后再保存。")}]
            except ops.DuplicateElderError as error:
                db.rollback()
                duplicate, problems = error.existing, error.errors
            except ops.AssessmentError as error:
                db.rollback()
                problems = error.errors
            else:
                db.commit()
                flash(message, "success")
                return redirect(url_for("assessment.elder", elder_id=elder.id))
        for problem in problems:
            target = form._fields.get(problem["item"] or "")
            if target is not None and problem["message"] not in target.errors:
                target.errors = [*target.errors, problem["message"]]
    status = 409 if conflict else 422 if problems else 200
    return render_template("assessment/elder_form.html", form=form, elder=elder, duplicate=duplicate,
                           problems=[p["message"] for p in problems]), status


@bp.route("/elders/<int:elder_id>")
@require_roles(*READ)
def elder(elder_id: int) -> Any:
    return _render_elder(queries.get_elder(get_session(), elder_id, _user()))


@bp.route("/elders/<int:elder_id>/reveal", methods=["POST"])
@require_roles(*REVEAL)
def elder_reveal(elder_id: int) -> Any:
    db = get_session()
    person = queries.get_elder(db, elder_id, _user())
    field = request.form.get("field", "id_number")
    try:
        value = ops.reveal_elder_field(session=db, actor=_user(), elder=person, field_name=field,
                                       cipher=cipher(), reason=request.form.get("reason", ""))
    except ops.AssessmentError:
        abort(400)
    db.commit()
    return _render_elder(person, revealed=value, reveal_field=field)


def _render_elder(person: Elder, revealed: str | None = None, reveal_field: str | None = None) -> Any:
    db = get_session()
    definitions = queries.assessment_definitions()
    assessments = queries.assessments_of(db, person)
    start = StartForm(formdata=None)
    start.instrument.choices = choices((d.id, d.title.get(_lang())) for d in definitions.values())
    start.reason.data = "routine" if assessments else "initial"
    return render_template("assessment/elder.html", elder=person, start=start, reveal_roles=REVEAL,
                           assessments=assessments, genders=GENDERS, legal_bases=LEGAL_BASES,
                           reasons=REASONS, statuses=STATUSES, definitions=definitions,
                           revealed=revealed, reveal_field=reveal_field)


@bp.route("/elders/<int:elder_id>/assessments", methods=["POST"])
@require_roles(*WRITE)
def assessment_start(elder_id: int) -> Any:
    db = get_session()
    person = queries.get_elder(db, elder_id, _user())
    definitions = queries.assessment_definitions()
    form = StartForm()
    form.instrument.choices = choices((d, d) for d in definitions)
    definition = definitions.get(form.instrument.data or "") or next(iter(definitions.values()))
    try:
        created = ops.start_assessment(session=db, actor=_user(), elder=person, definition=definition,
                                       reason=form.reason.data or "initial", place=form.place.data or "")
    except ops.AssessmentError as error:
        flash(error.message, "error")
        return redirect(url_for("assessment.elder", elder_id=person.id))
    db.commit()
    return redirect(url_for("assessment.fill", assessment_id=created.id))


@bp.route("/elders/<int:elder_id>/reassess", methods=["POST"])
@require_roles(*WRITE)
def reassess_now(elder_id: int) -> Any:
    """One tap: an immediate reassessment (condition changed) with the last instrument used."""
    db = get_session()
    person = queries.get_elder(db, elder_id, _user())
    previous = queries.assessments_of(db, person)
    definitions = queries.assessment_definitions()
    definition = (definitions.get(previous[0].instrument_id) if previous else None) or next(iter(definitions.values()))
    created = ops.start_assessment(session=db, actor=_user(), elder=person, definition=definition,
                                   reason="immediate")
    db.commit()
    flash(_("已开始即时评估。"), "success")
    return redirect(url_for("assessment.fill", assessment_id=created.id))


# --- the form, one section per page ---------------------------------------------------------


class PageState(FlaskForm):
    version = HiddenField()
    section = HiddenField()


_FORM_CLASSES: dict[tuple[str, str, str, str], type] = {}


def _section_form_class(definition: Definition, section_id: str, lang: str) -> type:
    key = (definition.id, definition.version, section_id, lang)
    if key not in _FORM_CLASSES:
        _FORM_CLASSES[key] = build_form_class(definition.section(section_id).items, lang=lang, base=PageState)
    return _FORM_CLASSES[key]


def _visible_sections(definition: Definition) -> list[Any]:
    return [s for s in definition.sections if s.items]


def _section_or_default(definition: Definition, assessment: Assessment, wanted: str | None) -> Any:
    sections = _visible_sections(definition)
    for section in sections:
        if section.id == (wanted or assessment.current_section):
            return section
    return sections[0]


def _client_logic(definition: Definition, assessment: Assessment) -> dict[str, Any]:
    """What assessment.js needs to apply skip logic live: expressions as JSON and answer typing."""
    items = {}
    for item in definition.items.values():
        options = {("true" if o.value is True else "false" if o.value is False else str(o.value)): o.value
                   for o in item.options}
        items[item.id] = {"field": field_name(item.id), "type": item.type, "options": options}
    return {"logic": definition.skip_logic(), "items": items, "answers": assessment.answers,
            "relevant": sorted(definition.relevant_items(assessment.answers))}


def _render_fill(assessment: Assessment, definition: Definition, section: Any, form: Any,
                 status: int = 200, conflict: dict[str, Any] | None = None) -> Any:
    db = get_session()
    person = db.get(Elder, assessment.elder_id)
    sections = _visible_sections(definition)
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    answered = {s.id: sum(1 for i in s.items if i.id in assessment.answers) for s in sections}
    relevant = definition.relevant_items(assessment.answers)
    return render_template(
        "assessment/fill.html", assessment=assessment, definition=definition, section=section,
        sections=sections, index=index, form=form, elder=person, answered=answered, relevant=relevant,
        client_logic=_client_logic(definition, assessment), conflict=conflict, lang=_lang(),
        reasons=REASONS), status


@bp.route("/assessments/<int:assessment_id>/fill", methods=["GET", "POST"])
@require_roles(*WRITE)
def fill(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    definition = queries.definition_for(assessment)
    section = _section_or_default(definition, assessment, request.values.get("section"))
    form_class = _section_form_class(definition, section.id, _lang())
    if request.method == "GET":
        if request.args.get("section") is None:  # resume where the assessor was
            return redirect(url_for("assessment.fill", assessment_id=assessment.id, section=section.id))
        form = form_class(formdata=None, data=form_data_from_answers(section.items, assessment.answers))
        form.version.data, form.section.data = str(assessment.version), section.id
        errors = validate_answers(definition, assessment.answers, partial=True)
        attach_errors(form, [e for e in errors if e["item"] in assessment.answers], lang=_lang())
        return _render_fill(assessment, definition, section, form)
    form = form_class()
    if not form.validate():
        abort(400)
    answers = answers_from_form(form)
    try:
        version = int(form.version.data or 0)
    except ValueError:
        abort(400)
    go = request.form.get("go", "next")
    sections = _visible_sections(definition)
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    target = {"next": min(index + 1, len(sections) - 1), "prev": max(index - 1, 0)}.get(go, index)
    if go.startswith("section:"):
        target = next((i for i, s in enumerate(sections) if s.id == go[8:]), index)
    try:
        problems = ops.save_answers(session=db, actor=_user(), assessment=assessment, definition=definition,
                                    answers=answers, version=version, section=sections[target].id)
    except ops.ConflictError as error:
        db.rollback()
        db.refresh(assessment)
        theirs = {item.id: assessment.answers.get(item.id) for item in section.items
                  if assessment.answers.get(item.id) != answers.get(item.id)}
        form.version.data = str(error.current_version)
        return _render_fill(assessment, definition, section, form, status=409,
                            conflict={"message": error.message, "theirs": theirs})
    except ops.AssessmentError as error:
        db.rollback()
        attach_errors(form, error.errors, lang=_lang())
        return _render_fill(assessment, definition, section, form, status=422)
    db.commit()
    mine = [p for p in problems if p["item"] in {i.id for i in section.items} and answers.get(p["item"]) is not None]
    if mine and go in ("next", "review"):
        # Stay on the page so the assessor sees the message next to the item; nothing is lost.
        form.version.data = str(assessment.version)
        attach_errors(form, mine, lang=_lang())
        return _render_fill(assessment, definition, section, form, status=422)
    if go == "review" or (go == "next" and index == len(sections) - 1):
        return redirect(url_for("assessment.review", assessment_id=assessment.id))
    return redirect(url_for("assessment.fill", assessment_id=assessment.id, section=sections[target].id))


@bp.route("/assessments/<int:assessment_id>/autosave", methods=["POST"])
@require_roles(*WRITE)
def autosave(assessment_id: int) -> Any:
    """The page's background save (fetch, CSRF header or field): JSON in, JSON out."""
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return jsonify({"error": "not_draft", "message": _("评估已提交，不能再修改。"),
                        "version": assessment.version, "status": assessment.status}), 409
    definition = queries.definition_for(assessment)
    section = _section_or_default(definition, assessment, request.form.get("section"))
    form = _section_form_class(definition, section.id, _lang())()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return jsonify({"error": "invalid", "message": "version"}), 422
    try:
        problems = ops.save_answers(session=db, actor=_user(), assessment=assessment, definition=definition,
                                    answers=answers_from_form(form), version=version, section=section.id)
    except ops.ConflictError as error:
        db.rollback()
        return jsonify({"error": "conflict", "message": error.message, "version": error.current_version}), 409
    except ops.AssessmentError as error:
        db.rollback()
        return jsonify({"error": error.code, "message": error.message, "errors": error.errors}), error.status
    db.commit()
    return jsonify({"version": assessment.version, "status": assessment.status,
                    "problems": [{"item": p["item"], "message": p["message"]} for p in problems
                                 if p["item"] in assessment.answers],
                    "relevant": sorted(definition.relevant_items(assessment.answers)),
                    "saved_at": assessment.updated_at.isoformat()})


@bp.route("/assessments/<int:assessment_id>/review", methods=["GET"])
@require_roles(*WRITE)
def review(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.is_editable:
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    definition = queries.definition_for(assessment)
    errors = validate_answers(definition, assessment.answers)
    return _render_review(assessment, definition, errors)


def _render_review(assessment: Assessment, definition: Definition, errors: list[dict[str, Any]],
                   status: int = 200) -> Any:
    db = get_session()
    by_item: dict[str, list[str]] = {}
    for error in errors:
        by_item.setdefault(str(error["item"]), []).append(error["message"])
    relevant = definition.relevant_items(assessment.answers)
    return render_template("assessment/review.html", assessment=assessment, definition=definition,
                           elder=db.get(Elder, assessment.elder_id), errors=errors, by_item=by_item,
                           relevant=relevant, answer_text=answer_text,
                           sections=_visible_sections(definition)), status


def answer_text(item: Any, value: Any) -> str:
    return "" if value is None else documents.answer_text(item, value)


@bp.route("/assessments/<int:assessment_id>/submit", methods=["POST"])
@require_roles(*WRITE)
def submit(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if assessment.status != "draft":  # a double tap or a retry: the first one counted
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    definition = queries.definition_for(assessment)
    form = PageState()
    if not form.validate():
        abort(400)
    try:
        version = int(form.version.data or 0)
        ops.submit_assessment(session=db, actor=_user(), assessment=assessment, definition=definition,
                              version=version)
    except ValueError:
        abort(400)
    except ops.ConflictError:
        db.rollback()
        db.refresh(assessment)
        if assessment.status != "draft":
            return redirect(url_for("assessment.detail", assessment_id=assessment.id))
        flash(_("这份评估刚被其他人修改过，请核对最新答案后再提交。"), "warning")
        return _render_review(assessment, definition, validate_answers(definition, assessment.answers),
                              status=409)
    except ops.AssessmentError as error:
        db.rollback()
        return _render_review(assessment, definition, error.errors, status=422)
    db.commit()
    flash(_("已提交并计分。"), "success")
    return redirect(url_for("assessment.detail", assessment_id=assessment.id))


# --- result, signing, review, amendment -----------------------------------------------------


@bp.route("/assessments/<int:assessment_id>")
@require_roles(*READ)
def detail(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if assessment.is_editable and _user().has_role("assessor"):
        return redirect(url_for("assessment.fill", assessment_id=assessment.id))
    return _render_detail(assessment)


def _render_detail(assessment: Assessment, *, sign_error: str | None = None,
                   amend_form: AmendForm | None = None, status: int = 200) -> Any:
    from reports import bar_chart_svg

    db = get_session()
    definition = queries.definition_for(assessment)
    result = assessment.result or {}
    lang = _lang()
    signatures = queries.signatures_with_users(db, assessment)
    digest = ops.answers_digest(assessment)
    user = _user()
    assessor_count = sum(1 for s, _u in signatures if s.role == "assessor")
    required = queries.required_signatures()
    has_signed = any(u.id == user.id for _s, u in signatures)
    can_sign = (not has_signed and (
        (assessment.status == "submitted" or (assessment.status == "signed" and assessor_count < required))
        and user.has_role("assessor")
        or assessment.status == "signed" and assessor_count >= required and user.has_role("reviewer")))
    rows = domain_rows(result, lang)
    return render_template(
        "assessment/detail.html", assessment=assessment, definition=definition, result=result,
        elder=db.get(Elder, assessment.elder_id), domains=rows,
        chart=bar_chart_svg(rows, width=560, font_family="sans-serif") if rows else "",
        entitlement=entitlement_public(queries.entitlement_for(db, assessment)),
        signatures=signatures, digest=digest, required=required, assessor_count=assessor_count,
        can_sign=can_sign, sign_form=SignForm(), sign_error=sign_error,
        amend_form=amend_form or AmendForm(formdata=None), history=history_public(db, assessment),
        statuses=STATUSES, reasons=REASONS, lang=lang), status


@bp.route("/assessments/<int:assessment_id>/sign", methods=["POST"])
@require_roles("assessor", "reviewer")
def sign(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    form = SignForm()
    try:
        ops.sign_assessment(session=db, actor=_user(), assessment=assessment,
                            password=form.password.data or "", required_signatures=queries.required_signatures())
    except ops.AssessmentError as error:
        db.commit()  # keeps the audit record of a failed attempt
        return _render_detail(assessment, sign_error=error.message, status=error.status)
    db.commit()
    flash(_("已审核，记录已锁定。") if assessment.status == "approved" else _("已签名。"), "success")
    return redirect(url_for("assessment.detail", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/reopen", methods=["POST"])
@require_roles(*WRITE)
def reopen(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    try:
        ops.reopen_assessment(session=db, actor=_user(), assessment=assessment)
    except ops.AssessmentError as error:
        flash(error.message, "error")
        return redirect(url_for("assessment.detail", assessment_id=assessment.id))
    db.commit()
    flash(_("已退回草稿，原有签名作废。"), "warning")
    return redirect(url_for("assessment.fill", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/amend", methods=["POST"])
@require_roles("assessor", "reviewer")
def amend(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    form = AmendForm()
    try:
        amendment = ops.amend_assessment(session=db, actor=_user(), assessment=assessment,
                                         reason=form.reason.data or "")
    except ops.AssessmentError as error:
        db.rollback()
        form.reason.errors = [error.message]
        return _render_detail(assessment, amend_form=form, status=error.status)
    db.commit()
    flash(_("已创建更正版本，请修改后重新提交和签名。"), "success")
    if _user().has_role("assessor"):
        return redirect(url_for("assessment.fill", assessment_id=amendment.id))
    return redirect(url_for("assessment.detail", assessment_id=amendment.id))


@bp.route("/assessments/<int:assessment_id>/diff")
@require_roles(*READ)
def diff(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if not assessment.amends_id:
        abort(404)
    previous = queries.get_assessment(db, assessment.amends_id, _user())
    definition = queries.definition_for(assessment)
    changes = ops.answer_differences(definition, previous.answers, assessment.answers)
    items = definition.items
    return render_template("assessment/diff.html", assessment=assessment, previous=previous,
                           changes=changes, items=items, answer_text=answer_text,
                           elder=db.get(Elder, assessment.elder_id))


@bp.route("/assessments/<int:assessment_id>/report.pdf")
@require_roles(*READ)
def report(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    if assessment.result is None:
        abort(404)
    pdf = report_pdf(db, assessment)
    db.commit()
    return pdf_response(pdf, f"assessment-{assessment.id}.pdf")


@bp.route("/assessments/forms/<instrument>.pdf")
@require_roles(*READ)
def blank_form(instrument: str) -> Any:
    from reports import render_pdf

    definition = queries.assessment_definitions().get(instrument)
    if definition is None:
        abort(404)
    return pdf_response(render_pdf("blank_form.html", blank_form_context(definition)), f"{instrument}-blank.pdf")


# --- lists ------------------------------------------------------------------------------------


@bp.route("/assessments")
@require_roles(*READ)
def index() -> Any:
    db = get_session()
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    rows = queries.recent_assessments(db, _user(), status=status)
    soon, overdue = queries.reassessment_due(db, _user())
    return render_template("assessment/index.html", rows=rows, statuses=STATUSES, reasons=REASONS,
                           status=status, due_count=len(soon), overdue_count=len(overdue),
                           definitions=queries.assessment_definitions())


@bp.route("/assessments/due")
@require_roles(*READ)
def due() -> Any:
    soon, overdue = queries.reassessment_due(get_session(), _user())
    return render_template("assessment/due.html", soon=soon, overdue=overdue, today=date.today())


@bp.route("/assessments/entitlements", methods=["GET", "POST"])
@require_roles("admin")
def entitlements() -> Any:
    db = get_session()
    user = _user()
    organisation = db.get(Organisation, user.organisation_id)
    definitions = queries.assessment_definitions()
    instrument = request.values.get("instrument") or next(iter(definitions))
    definition = definitions.get(instrument)
    if definition is None or organisation is None:
        abort(404)
    problems: list[str] = []
    if request.method == "POST":
        if not FlaskForm().validate():
            abort(400)
        for level in definition.levels:
            services = request.form.get(f"services_{level.code}", "").replace("，", ",").replace("、", ",")
            subsidy = request.form.get(f"subsidy_{level.code}", "0").strip() or "0"
            try:
                fen = round(float(subsidy) * 100)
            except ValueError:
                problems.append(_("%(label)s：补贴应为数字（元）", label=level.label.zh))
                continue
            try:
                ops.set_entitlement(session=db, actor=user, organisation=organisation, instrument_id=definition.id,
                                    level_code=level.code, services=services.split(","), monthly_subsidy_fen=fen,
                                    note=request.form.get(f"note_{level.code}", ""))
            except ops.AssessmentError as error:
                problems.append(f"{level.label.zh}：{error.message}")
        if not problems:
            db.commit()
            flash(_("已保存。"), "success")
            return redirect(url_for("assessment.entitlements", instrument=definition.id))
        db.rollback()
    table = queries.entitlements_table(db, organisation, definition.id)
    return render_template("assessment/entitlements.html", organisation=organisation, definition=definition,
                           definitions=definitions, table=table, problems=problems, money=money,
                           form=FlaskForm()), 422 if problems else 200

