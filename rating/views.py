"""Pages for facility inspection and grading, and the public certificate verification page.
Views are thin: parse, call an operation, commit once, redirect."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import select

from accounts.models import User
from accounts.queries import visible_org_ids, visible_organisations
from core.auth import current_actor, public, require_roles
from core.db import EditConflict, get_session, valid_id
from core.i18n import N_, Labels
from core.navigation import register_home_card, register_nav
from core.timeutil import utcnow
from rating import operations as ops
from rating import queries
from rating.checklist import build_sections, parse_form
from rating.documents import (
    certificate_pdf_response,
    notice_context,
    verify_url,
)
from rating.models import (
    ACTION_STATUSES,
    CERTIFICATE_STATUSES,
    FACILITY_KINDS,
    FILING_STATUSES,
    INSPECTION_STATUSES,
    SEVERITIES,
    Certificate,
    CorrectiveAction,
    EvidencePhoto,
    Facility,
    Grade,
    Inspection,
    InspectionPlan,
)
from rating.operations.actions import aware
from rating.schemes import facility_kinds_for, get_scheme, rating_schemes
from rating.signing import unpack_token

bp = Blueprint("rating", __name__)

STAFF = ("admin", "inspector")
ALL = ("admin", "inspector", "operator")

register_nav("rating.dashboard", _l("评定总览"), roles=("admin",), order=40)
register_nav("rating.inspections", _l("机构检查"), roles=("inspector",), order=41)
register_nav("rating.facilities", _l("机构"), roles=STAFF, order=42)
register_nav("rating.actions", _l("整改"), roles=ALL, order=43)
register_nav("rating.certificates", _l("证书"), roles=("admin",), order=44)
register_home_card("rating.inspections", _l("机构检查"), _l("按检查表现场打分，照片和备注随时自动保存"),
                   roles=STAFF, order=40,
                   count=lambda user: len(queries.inspections(get_session(), user, status="in_progress")))
register_home_card("rating.actions", _l("整改跟踪"), _l("查看待整改、即将到期和逾期的整改项"),
                   roles=ALL, order=41,
                   count=lambda user: len(queries.actions(get_session(), user, which="overdue")) or None)
register_home_card("rating.dashboard", _l("评定总览"), _l("等级分布、逾期整改、即将到期的等级"),
                   roles=("admin",), order=42)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    tables = {"FACILITY_KINDS": FACILITY_KINDS, "INSPECTION_STATUSES": INSPECTION_STATUSES,
              "ACTION_STATUSES": ACTION_STATUSES | {"overdue": N_("已逾期")}, "SEVERITIES": SEVERITIES,
              "CERTIFICATE_STATUSES": CERTIFICATE_STATUSES, "FILING_STATUSES": FILING_STATUSES}
    return {name: Labels(table) for name, table in tables.items()}


def _actor() -> User:
    return current_actor()  # type: ignore[no-any-return]


def _photo_dir() -> Path:
    return Path(current_app.instance_path) / "rating_photos"


def _problems(exc: ops.RatingError) -> list[str]:
    return [f"{e['item']}：{e['message']}" if e.get("item") else str(e["message"]) for e in exc.errors]


@bp.route("/rating/")
@require_roles(*ALL)
def index() -> Any:
    user = _actor()
    if user.has_role("admin"):
        return redirect(url_for("rating.dashboard"))
    if user.has_role("inspector"):
        return redirect(url_for("rating.inspections"))
    return redirect(url_for("rating.actions"))


# --- dashboard ---------------------------------------------------------------------------


@bp.route("/rating/dashboard")
@require_roles("admin")
def dashboard() -> Any:
    from reports import bar_chart_svg

    data = queries.dashboard(get_session(), _actor())
    total = max(len(data["facilities"]), 1)
    chart = bar_chart_svg([{"label": label, "score": n, "max": total} for label, n in data["by_grade"]],
                          width=560, font_family="sans-serif") if data["by_grade"] else None
    return render_template("rating/dashboard.html", chart=chart, **data)


@bp.route("/rating/dashboard/escalate", methods=["POST"])
@require_roles("admin")
def escalate() -> Any:
    session = get_session()
    done = ops.escalate_overdue(session=session, actor=_actor(),
                                organisation_ids=visible_org_ids(session, _actor()))
    session.commit()
    flash(_("已升级 %(n)d 项逾期整改。", n=len(done)))
    return redirect(url_for("rating.dashboard"))


# --- facilities ---------------------------------------------------------------------------


def _facility_data(form: Any) -> tuple[dict[str, Any], list[str]]:
    problems = []
    data: dict[str, Any] = {k: (form.get(k) or "").strip() for k in
                            ("name", "kind", "district", "address", "operator", "filing_status")}
    operator_org = (form.get("operator_organisation_id") or "").strip()
    data["operator_organisation_id"] = int(operator_org) if operator_org.isdigit() else None
    if data["operator_organisation_id"] is not None and data["operator_organisation_id"] not in {
            o.id for o in _operator_orgs()}:
        problems.append(_("运营方账号所属机构不在可选范围内"))
    beds = (form.get("beds") or "0").strip()
    data["beds"] = int(beds) if beds.isdigit() else -1
    opened = (form.get("opened_on") or "").strip()
    data["opened_on"] = None
    if opened:
        try:
            data["opened_on"] = date.fromisoformat(opened)
        except ValueError:
            problems.append(_("开业日期格式应为 年-月-日"))
    return data, problems


def _operator_orgs() -> list[Any]:
    """Operator organisations (kind facility_operator) the user may link a facility to."""
    return [o for o in visible_organisations(get_session(), _actor()) if o.kind == "facility_operator"]


@bp.route("/rating/facilities")
@require_roles(*STAFF)
def facilities() -> Any:
    session = get_session()
    rows = queries.facilities(session, _actor(), kind=request.args.get("kind") or None)
    grades = queries.current_grades(session, [f.id for f in rows if f.id])
    return render_template("rating/facilities.html", facilities=rows, grades=grades)


@bp.route("/rating/facilities/new", methods=["GET", "POST"])
@require_roles(*STAFF)
def facility_new() -> Any:
    session = get_session()
    orgs = visible_organisations(session, _actor())
    problems: list[str] = []
    if request.method == "POST":
        data, problems = _facility_data(request.form)
        org_id = valid_id(request.form.get("organisation_id") or _actor().organisation_id)
        if org_id not in visible_org_ids(session, _actor()):
            abort(404)
        if not problems:
            try:
                facility = ops.create_facility(session=session, actor=_actor(), organisation_id=org_id, data=data)
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                session.commit()
                flash(_("已登记机构：%(name)s", name=facility.name))
                return redirect(url_for("rating.facility", facility_id=facility.id))
    return render_template("rating/facility_edit.html", facility=None, form=request.form,
                           organisations=orgs, operator_orgs=_operator_orgs(), problems=problems), 422 if problems else 200


@bp.route("/rating/facilities/<int:facility_id>")
@require_roles(*STAFF)
def facility(facility_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Facility, facility_id, _actor())
    grades = queries.grade_history(session, item)
    statuses = {g.id: ops.grade_status(grade=g, facility=item) for g in grades}
    schemes = [d for d in rating_schemes() if item.kind in facility_kinds_for(d)]
    return render_template("rating/facility.html", facility=item, grades=grades, statuses=statuses,
                           inspections=queries.inspections(session, _actor(), facility_id=item.id),
                           actions=queries.actions(session, _actor(), which="open", facility_id=item.id),
                           schemes=schemes, current=queries.current_grade(session, item))


@bp.route("/rating/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@require_roles(*STAFF)
def facility_edit(facility_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Facility, facility_id, _actor())
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        data, problems = _facility_data(request.form)
        if not problems:
            try:
                ops.update_facility(session=session, actor=_actor(), facility=item, data=data,
                                    version=request.form.get("version", type=int))
            except EditConflict:
                session.rollback()
                status = 409
                problems = [_("这家机构刚被其他人修改过。您填写的内容保留在下面；请核对最新信息（另开页面查看）后再保存。")]
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                session.commit()
                flash(_("已保存。"))
                return redirect(url_for("rating.facility", facility_id=item.id))
    form = request.form if request.method == "POST" else {
        "name": item.name, "kind": item.kind, "district": item.district, "address": item.address,
        "beds": item.beds, "operator": item.operator, "filing_status": item.filing_status,
        "opened_on": item.opened_on.isoformat() if item.opened_on else "",
        "operator_organisation_id": item.operator_organisation_id or ""}
    return render_template("rating/facility_edit.html", facility=item, form=form, organisations=[],
                           operator_orgs=_operator_orgs(), problems=problems), status if status != 200 else (
                               422 if problems else 200)


@bp.route("/rating/facilities/<int:facility_id>/inspect", methods=["POST"])
@require_roles(*STAFF)
def inspection_new(facility_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Facility, facility_id, _actor())
    try:
        inspection = ops.start_inspection(session=session, actor=_actor(), facility=item,
                                          scheme=request.form.get("scheme", ""))
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
        return redirect(url_for("rating.facility", facility_id=item.id))
    session.commit()
    return redirect(url_for("rating.inspection", inspection_id=inspection.id))


# --- plans --------------------------------------------------------------------------------


@bp.route("/rating/plans")
@require_roles(*STAFF)
def plans() -> Any:
    return render_template("rating/plans.html", plans=queries.plans(get_session(), _actor()))


@bp.route("/rating/plans/new", methods=["GET", "POST"])
@require_roles("admin")
def plan_new() -> Any:
    session = get_session()
    problems: list[str] = []
    if request.method == "POST":
        f = request.form
        try:
            share = float(f["share"]) / 100 if f.get("method") == "share" and f.get("share") else None
            count = int(f["count"]) if f.get("method") == "count" and f.get("count") else None
        except ValueError:
            share, count = None, None
            problems.append(_("比例或数量应为数字"))
        if not problems:
            try:
                plan = ops.create_plan(session=session, actor=_actor(), organisation_id=_actor().organisation_id,
                                       name=f.get("name", ""), scheme=f.get("scheme", ""),
                                       method=f.get("method", ""), share=share, count=count,
                                       facility_ids=[int(i) for i in f.getlist("facility_ids") if i.isdigit()])
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                session.commit()
                flash(_("计划已生成，随机种子 %(seed)s 已记录。", seed=plan.seed))
                return redirect(url_for("rating.plan", plan_id=plan.id))
    return render_template("rating/plan_new.html", schemes=rating_schemes(), form=request.form,
                           facilities=queries.facilities(session, _actor()), problems=problems), 422 if problems else 200


@bp.route("/rating/plans/<int:plan_id>")
@require_roles(*STAFF)
def plan(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    names = {f.id: f.name for f in session.exec(select(Facility).where(Facility.id.in_(item.target_ids)))}  # type: ignore[union-attr]
    users = {u.id: u.display_name or u.username for u in session.exec(select(User).where(User.id.in_(item.inspector_ids)))}  # type: ignore[union-attr]
    issuable = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()), plan_id=item.id)
    return render_template("rating/plan.html", plan=item, names=names, users=users,
                           repeatable=ops.redraw_matches(item), issuable=issuable,
                           inspections=queries.inspections(session, _actor(), plan_id=item.id),
                           certificates=queries.certificates(session, _actor(), plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/publish", methods=["POST"])
@require_roles("admin")
def plan_publish(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    ops.publish_plan(session=session, actor=_actor(), plan=item, results=request.form.get("results") == "1")
    session.commit()
    flash(_("已公开。"))
    return redirect(url_for("rating.plan", plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/start", methods=["POST"])
@require_roles(*STAFF)
def plan_start(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    created = ops.start_plan_inspections(session=session, actor=_actor(), plan=item)
    session.commit()
    flash(_("已创建 %(n)d 项检查。", n=len(created)))
    return redirect(url_for("rating.plan", plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/issue", methods=["POST"])
@require_roles("admin")
def plan_issue(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    grades = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()), plan_id=item.id)
    issued = ops.issue_batch(session=session, actor=_actor(), grades=grades)
    session.commit()
    flash(_("已发放 %(n)d 张证书（已发过的不会重复发放）。", n=len(issued)))
    return redirect(url_for("rating.plan", plan_id=item.id))


# --- inspections --------------------------------------------------------------------------


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
    definition = get_scheme(item.scheme)
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
    definition = get_scheme(item.scheme)
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
    return redirect(url_for("rating.inspection", inspection_id=item.id) + f"#item-{request.form.get('item', '')}")


@bp.route("/rating/photos/<int:photo_id>")
@require_roles(*ALL)
def photo(photo_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, EvidencePhoto, photo_id, _actor())
    path = _photo_dir() / str(item.organisation_id) / item.stored_name
    if not path.is_file():
        abort(404)
    # Photos are small once resized; reading them whole keeps no file handle open.
    return Response(path.read_bytes(), mimetype=item.content_type,
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
        definition = get_scheme(item.scheme)
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


@bp.route("/rating/actions")
@require_roles(*ALL)
def actions() -> Any:
    session = get_session()
    which = request.args.get("which", "open")
    if which not in ("open", "due_soon", "overdue", "closed"):
        which = "open"
    rows = queries.actions(session, _actor(), which=which)
    names = {f.id: f.name for f in queries.facilities(session, _actor())}
    return render_template("rating/actions.html", actions=rows, which=which, names=names,
                           status_of=ops.display_status)


@bp.route("/rating/actions/<int:action_id>")
@require_roles(*ALL)
def action(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    photos = list(session.exec(select(EvidencePhoto).where(EvidencePhoto.action_id == item.id)))
    return render_template("rating/action.html", action=item, facility=session.get(Facility, item.facility_id),
                           status=ops.display_status(item), photos=photos)


@bp.route("/rating/actions/<int:action_id>/evidence", methods=["POST"])
@require_roles(*ALL)
def action_evidence(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    try:
        ops.submit_evidence(session=session, actor=_actor(), action=item, note=request.form.get("note", ""))
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            ops.save_photo(session=session, actor=_actor(), storage=_photo_dir(),
                           organisation_id=item.organisation_id, data=upload.read(),
                           content_type=upload.mimetype or "", action=item, item_id=item.item_id)
    except ops.RatingError as exc:
        session.rollback()
        for p in _problems(exc):
            flash(p, "error")
    else:
        session.commit()
        flash(_("整改材料已提交，等待核验。"))
    return redirect(url_for("rating.action", action_id=item.id))


@bp.route("/rating/actions/<int:action_id>/verify", methods=["POST"])
@require_roles(*STAFF)
def action_verify(action_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, CorrectiveAction, action_id, _actor())
    try:
        ops.verify_action(session=session, actor=_actor(), action=item,
                          accept=request.form.get("accept") != "0", reason=request.form.get("reason"))
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
    else:
        session.commit()
        flash(_("已处理。"))
    return redirect(url_for("rating.action", action_id=item.id))


# --- certificates -------------------------------------------------------------------------


@bp.route("/rating/certificates")
@require_roles("admin")
def certificates() -> Any:
    session = get_session()
    rows = queries.certificates(session, _actor())
    info = {}
    for c in rows:
        grade, fac = session.get(Grade, c.grade_id), session.get(Facility, c.facility_id)
        info[c.id] = (fac, grade, ops.certificate_status(certificate=c, grade=grade, facility=fac))  # type: ignore[arg-type]
    issuable = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()))
    return render_template("rating/certificates.html", certificates=rows, info=info, issuable=issuable)


@bp.route("/rating/certificates/issue-all", methods=["POST"])
@require_roles("admin")
def certificates_issue_all() -> Any:
    session = get_session()
    grades = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()))
    issued = ops.issue_batch(session=session, actor=_actor(), grades=grades)
    session.commit()
    flash(_("已发放 %(n)d 张证书（已发过的不会重复发放）。", n=len(issued)))
    return redirect(url_for("rating.certificates"))


@bp.route("/rating/grades/<int:grade_id>/certificate", methods=["POST"])
@require_roles("admin")
def grade_certificate(grade_id: int) -> Any:
    session = get_session()
    grade = queries.get_or_404(session, Grade, grade_id, _actor())
    try:
        certificate, _created = ops.issue_certificate(session=session, actor=_actor(), grade=grade)
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
        return redirect(url_for("rating.inspection", inspection_id=grade.inspection_id))
    session.commit()
    return redirect(url_for("rating.certificate", certificate_id=certificate.id))


@bp.route("/rating/certificates/<int:certificate_id>")
@require_roles(*ALL)
def certificate(certificate_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Certificate, certificate_id, _actor())
    grade, fac = session.get(Grade, item.grade_id), session.get(Facility, item.facility_id)
    status, reason = ops.certificate_status(certificate=item, grade=grade, facility=fac)  # type: ignore[arg-type]
    return render_template("rating/certificate.html", certificate=item, grade=grade, facility=fac,
                           status=status, reason=reason, verify_url=verify_url(item))


@bp.route("/rating/certificates/<int:certificate_id>/pdf")
@require_roles(*ALL)
def certificate_pdf(certificate_id: int) -> Any:
    session = get_session()
    return certificate_pdf_response(session, queries.get_or_404(session, Certificate, certificate_id, _actor()))


@bp.route("/rating/certificates/<int:certificate_id>/revoke", methods=["POST"])
@require_roles("admin")
def certificate_revoke(certificate_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Certificate, certificate_id, _actor())
    try:
        ops.revoke_certificate(session=session, actor=_actor(), certificate=item, reason=request.form.get("reason", ""))
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
    else:
        session.commit()
        flash(_("证书已撤销。"))
    return redirect(url_for("rating.certificate", certificate_id=item.id))


# --- published plans (双随机一公开) --------------------------------------------------------


@bp.route("/rating/published")
@public
def published() -> Any:
    """Published plans: the seed, the draw and, once published, the results. No login."""
    session = get_session()
    rows = list(session.exec(select(InspectionPlan).where(InspectionPlan.is_published == True)  # noqa: E712
                             .order_by(InspectionPlan.id.desc())))
    ids = {fid for p in rows for fid in p.target_ids}
    names = {f.id: f.name for f in session.exec(select(Facility).where(Facility.id.in_(ids)))}  # type: ignore[union-attr]
    grades = {g.facility_id: g for g in session.exec(select(Grade).where(Grade.plan_id.in_([p.id for p in rows])))}  # type: ignore[union-attr]
    return render_template("rating/published.html", plans=rows, names=names, grades=grades)


# --- public verification ------------------------------------------------------------------


@bp.route("/verify/<code>")
@public
def verify(code: str) -> Any:
    """Anyone can check a certificate: unknown code → 404; a payload that is not ours → not genuine."""
    session = get_session()
    item = queries.certificate_by_code(session, code)
    if item is None:
        abort(404)
    grade, fac = session.get(Grade, item.grade_id), session.get(Facility, item.facility_id)
    token = request.args.get("d")
    presented = unpack_token(token) if token else (None, None)
    genuine = presented is not None and ops.check_token(certificate=item, payload_text=presented[0],
                                                        signature=presented[1])
    status, reason = ops.certificate_status(certificate=item, grade=grade, facility=fac)  # type: ignore[arg-type]
    if not genuine:
        status, reason = "not_genuine", "签名无效或内容被篡改：这不是本系统签发的证书内容"
    payload = json.loads(item.payload)
    body = {"status": status, "status_label": CERTIFICATE_STATUSES[status], "reason": reason,
            "genuine": genuine, "serial": item.serial if genuine else None}
    if genuine:
        body.update({"facility": fac.name if fac else "", "grade": {"code": grade.code, "label": grade.label,  # type: ignore[union-attr]
                                                                    "stars": grade.stars, "medal": grade.medal},  # type: ignore[union-attr]
                     "scheme": payload.get("scheme"), "issuer": payload.get("issuer"),
                     "issued_on": item.issued_on.isoformat(), "valid_until": item.valid_until.isoformat()})
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(body)
    return render_template("rating/verify.html", **body)
