"""One assessment after the form: submit, result, signatures, reopen, amendment, diff and documents."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from accounts import throttle
from assessment import operations as ops
from assessment import queries
from assessment.api import pdf_response, report_pdf
from assessment.documents import blank_form_context
from assessment.forms import AmendForm, ReturnForm, SignForm
from assessment.models import DRAWN_ROLES, REASONS, STATUSES, Assessment, Elder
from assessment.operations import drawn, evidence
from assessment.presenters import domain_rows, entitlement_public, history_public
from assessment.views.common import READ, WRITE, _lang, _user, bp, workflow_context
from assessment.views.fill import PageState, _render_review, answer_text
from assessment.visits import visit_report
from assessment.workflow import ASSESSMENT
from core.auth import require_roles
from core.db import get_session
from core.errors import translate
from core.i18n import Labels
from core.storage import get_storage
from core.unitofwork import keep_writes
from core.workflow import allowed_actions
from scoring import validate_answers


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
        if assessment.status != "draft":
            return redirect(url_for("assessment.detail", assessment_id=assessment.id))
        flash(_("这份评估刚被其他人修改过，请核对最新答案后再提交。"), "warning")
        return _render_review(assessment, definition, validate_answers(definition, assessment.answers),
                              status=409)
    except ops.AssessmentError as error:
        return _render_review(assessment, definition, error.errors, status=422)
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
                   amend_form: AmendForm | None = None, return_form: ReturnForm | None = None,
                   status: int = 200) -> Any:
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
    actions = allowed_actions(assessment, user)  # exactly what the workflow table allows this user
    can_sign = bool(actions & {"sign", "sign_last", "approve"})
    refusal = None
    if assessment.status == "signed" and user.has_role("reviewer") and "approve" not in actions:
        found = ASSESSMENT.refusal(assessment, user, "approve", workflow_context(assessment))
        refusal = found.message if found else None
    rows = domain_rows(result, lang)
    return render_template(
        "assessment/detail.html", assessment=assessment, definition=definition, result=result,
        elder=db.get(Elder, assessment.elder_id), domains=rows,
        chart=bar_chart_svg(rows, width=560, font_family="sans-serif") if rows else "",
        entitlement=entitlement_public(queries.entitlement_for(db, assessment)),
        signatures=signatures, digest=digest, required=required, assessor_count=assessor_count,
        can_sign=can_sign, sign_form=SignForm(), sign_error=sign_error, actions=actions, refusal=refusal,
        return_form=return_form or ReturnForm(formdata=None), returns=queries.returns_of(db, assessment),
        answer_sections=[s for s in definition.sections if s.items], answer_text=answer_text,
        relevant=definition.relevant_items(assessment.answers),
        amend_form=amend_form or AmendForm(formdata=None), history=history_public(db, assessment),
        statuses=STATUSES, reasons=REASONS, lang=lang, photos=evidence.photos_by_item(db, assessment),
        visit=visit_report(db, assessment, definition), drawings=drawn.drawn_signatures_of(db, assessment),
        drawn_roles=Labels(DRAWN_ROLES)), status


@bp.route("/assessments/<int:assessment_id>/sign", methods=["POST"])
@require_roles("assessor", "reviewer")
def sign(assessment_id: int) -> Any:
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    form = SignForm()
    wait = throttle.retry_after(_user().username, request.remote_addr)
    if wait:
        return _render_detail(assessment, sign_error=throttle.message(wait), status=429)
    try:
        ops.sign_assessment(session=db, actor=_user(), assessment=assessment,
                            password=form.password.data or "", required_signatures=queries.required_signatures(),
                            separation_of_duties=queries.separation_of_duties(),
                            qualification_required=queries.qualification_required())
    except ops.AssessmentError as error:
        if error.code == "bad_password":
            throttle.note_failure(_user().username, request.remote_addr)
        keep_writes()  # keeps the audit record of a failed attempt
        return _render_detail(assessment, sign_error=error.message, status=error.status)
    if request.form.get("drawn"):
        # The drawn mark goes with the password signature it shows: if it is refused, neither is kept.
        try:
            drawn.add_drawn_signature(session=db, actor=_user(), storage=get_storage(), assessment=assessment,
                                      role="self", data=drawn.png_from_data_url(request.form["drawn"]))
        except ops.AssessmentError as error:
            return _render_detail(assessment, sign_error=translate(error.errors[0]["message"]) if error.errors
                                  else error.message, status=error.status)
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
    flash(_("已退回草稿，原有签名作废。"), "warning")
    return redirect(url_for("assessment.fill", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/return", methods=["POST"])
@require_roles("reviewer")
def return_(assessment_id: int) -> Any:
    """退回并说明原因: the reviewer sends the assessment back to the assessors."""
    db = get_session()
    assessment = queries.get_assessment(db, assessment_id, _user())
    form = ReturnForm()
    if not form.validate():
        return _render_detail(assessment, return_form=form, status=422)
    try:
        ops.return_assessment(session=db, actor=_user(), assessment=assessment, reason=form.reason.data or "",
                              separation_of_duties=queries.separation_of_duties())
    except ops.AssessmentError as error:
        form.reason.errors = [error.message]
        return _render_detail(assessment, return_form=form, status=error.status)
    flash(_("已退回评估员修改，原有签名作废；退回原因已记录。"), "success")
    return redirect(url_for("assessment.detail", assessment_id=assessment.id))


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
        form.reason.errors = [error.message]
        return _render_detail(assessment, amend_form=form, status=error.status)
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
    return pdf_response(pdf, f"assessment-{assessment.id}.pdf")


@bp.route("/assessments/forms/<instrument>.pdf")
@require_roles(*READ)
def blank_form(instrument: str) -> Any:
    from reports import render_pdf

    definition = queries.assessment_definitions().get(instrument)
    if definition is None:
        abort(404)
    return pdf_response(render_pdf("blank_form.html", blank_form_context(definition)), f"{instrument}-blank.pdf")

