"""Elder registry pages: list and search, register and edit, reveal a masked field, start an assessment."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from accounts import picker
from accounts.models import Organisation
from accounts.queries import visible_org_ids
from assessment import lists, queries
from assessment import operations as ops
from assessment.forms import ElderForm, StartForm
from assessment.models import GENDERS, LEGAL_BASES, REASONS, STATUSES, Elder
from assessment.views.common import READ, REVEAL, WRITE, _lang, _user, bp
from core.auth import require_roles
from core.crypto import cipher
from core.db import EditConflict, get_session
from core.paging import Page, PagingError, page_params
from forms.common import choices


@bp.route("/elders", methods=["GET", "POST"])
@require_roles(*READ)
def elders() -> Any:
    # The search form posts, so a full ID number typed into it never lands in a URL or access log.
    db = get_session()
    if request.method == "POST" and not FlaskForm().validate():
        abort(400)
    q = request.values.get("q", "").strip()
    page, count, problem, status = Page(items=[]), None, None, 200
    if queries.is_full_id_number(q):  # exact, through the keyed hash; never paged through a URL
        page.items = [(e, None) for e in queries.search_elders(db, _user(), q)]
    else:
        try:
            target = picker.filter_target(db, _user(), request.args)
            if target is not None and request.method == "GET":
                return redirect(url_for("assessment.elders", **target))
            page, count = lists.elders_page(db, _user(), {**request.args.to_dict(), "q": q},
                                            page_params(request.args))
        except PagingError as error:
            problem, status = error.message, 422
    org_picker = picker.build(db, _user(), name="org", selected=request.args.get("org"), blank=_("全部"),
                              typed=request.args.get("org_text") if problem else None)
    return render_template("assessment/elders.html", elders=[e for e, _s in page.items], rows=page.items,
                           page=page, count=count, problem=problem, q=q, genders=GENDERS,
                           org_picker=org_picker), status


def _elder_form(db: Any, elder: Elder | None = None) -> tuple[ElderForm, picker.Picker]:
    form = ElderForm(obj=None)
    if request.method == "GET":
        form.organisation_id.data = elder.organisation_id if elder else _user().organisation_id
        if elder is not None:
            form.name.data, form.gender.data = elder.name, elder.gender
            form.birth_date.data, form.address.data = elder.birth_date, elder.address
            form.community.data, form.contact_name.data = elder.community, elder.contact_name
            form.legal_basis.data, form.consent_by.data = elder.legal_basis, elder.consent_by
            form.consent_at.data = elder.consent_at
    # Any organisation the user may see (active or not), as the <select> always offered.
    return form, picker.bind(db, _user(), form.organisation_id, picker.VISIBLE, formdata=request.form)


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
        consent_at=form.consent_at.data, latitude=form.latitude.data, longitude=form.longitude.data)


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
    form, org_picker = _elder_form(db, elder)
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
                conflict = True
                problems = [{"item": None, "message": _(
                    "这位老人的信息刚被其他人修改过。您填写的内容保留在下面；请核对最新信息后再保存。")}]
            except ops.DuplicateElderError as error:
                duplicate, problems = error.existing, error.errors
            except ops.AssessmentError as error:
                problems = error.errors
            else:
                flash(message, "success")
                return redirect(url_for("assessment.elder", elder_id=elder.id))
        for problem in problems:
            target = form._fields.get(problem["item"] or "")
            if target is not None and problem["message"] not in target.errors:
                target.errors = [*target.errors, problem["message"]]
    status = 409 if conflict else 422 if problems else 200
    return render_template("assessment/elder_form.html", form=form, elder=elder, duplicate=duplicate,
                           problems=[p["message"] for p in problems], org_picker=org_picker), status


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
        created, is_new = ops.open_assessment(session=db, actor=_user(), elder=person, definition=definition,
                                              reason=form.reason.data or "initial", place=form.place.data or "")
    except ops.AssessmentError as error:
        flash(error.message, "error")
        return redirect(url_for("assessment.elder", elder_id=person.id))
    return _to_open_assessment(created, is_new)


def _to_open_assessment(assessment: Any, is_new: bool) -> Any:
    """To the new draft, or (a double tap, or one already in progress) to the open one."""
    if not is_new:
        flash(_("该老人已有一份进行中的评估，已为您打开。"), "warning")
    if assessment.is_editable:
        return redirect(url_for("assessment.fill", assessment_id=assessment.id))
    return redirect(url_for("assessment.detail", assessment_id=assessment.id))


@bp.route("/elders/<int:elder_id>/reassess", methods=["POST"])
@require_roles(*WRITE)
def reassess_now(elder_id: int) -> Any:
    """One tap: an immediate reassessment (condition changed) with the last instrument used."""
    db = get_session()
    person = queries.get_elder(db, elder_id, _user())
    previous = queries.assessments_of(db, person)
    definitions = queries.assessment_definitions()
    definition = (definitions.get(previous[0].instrument_id) if previous else None) or next(iter(definitions.values()))
    created, is_new = ops.open_assessment(session=db, actor=_user(), elder=person, definition=definition,
                                          reason="immediate")
    if is_new:
        flash(_("已开始即时评估。"), "success")
    return _to_open_assessment(created, is_new)


