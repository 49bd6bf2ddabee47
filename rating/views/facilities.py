"""Facility pages: list, register, edit, start an inspection."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import col, select

from accounts import picker
from accounts.queries import visible_org_ids
from core.auth import require_roles
from core.db import EditConflict, get_session, valid_id
from rating import lists, queries
from rating import operations as ops
from rating.models import Facility, Grade
from rating.rewards import money, standing
from rating.schemes import facility_kinds_for, rating_schemes
from rating.views.common import STAFF, _actor, _problems, bp, flash_problems, paged_list

# --- facilities ---------------------------------------------------------------------------


def _facility_data(form: Any) -> tuple[dict[str, Any], list[str]]:
    problems = []
    data: dict[str, Any] = {k: (form.get(k) or "").strip() for k in
                            ("name", "kind", "district", "address", "operator", "filing_status")}
    value, operator, problem = picker.read(get_session(), _actor(), form, "operator_organisation_id", OPERATORS)
    data["operator_organisation_id"] = operator.id if operator is not None else None
    if problem is not None:
        problems.append(problem)
    elif value and operator is None:
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


OPERATORS = picker.Scope(kind="operator")  # whom a facility's operator accounts belong to: visible, active or not


def _pickers(form: Any, *, new: bool) -> dict[str, picker.Picker | None]:
    """The form's organisation fields: the supervising organisation (a new facility only; any the
    user may see, theirs by default) and the operator organisation (kind operator, or none). After a
    refusal a search box keeps what was typed."""
    session, actor = get_session(), _actor()

    def one(name: str, scope: picker.Scope, default: Any, blank: str | None) -> picker.Picker:
        value, _org, problem = picker.read(session, actor, form, name, scope)
        typed = form.get(name + picker.SUFFIX) if problem else None
        return picker.build(session, actor, name=name, scope=scope, selected=value or default, typed=typed,
                            blank=blank, problem=problem)

    organisation = one("organisation_id", picker.VISIBLE, actor.organisation_id, None) if new else None
    return {"org_picker": organisation, "operator_picker": one("operator_organisation_id", OPERATORS, None, _("无"))}


@bp.route("/rating/facilities")
@require_roles(*STAFF)
def facilities() -> Any:
    page, count, problem, status = paged_list(lists.facilities_page)
    current = {state.grade_id: f.id for f, state in page.items if state is not None and state.grade_id is not None}
    grades = {current[g.id]: g for g in get_session().exec(select(Grade).where(col(Grade.id).in_(current)))}
    return render_template("rating/facilities.html", facilities=[f for f, _s in page.items], grades=grades,
                           page=page, count=count, problem=problem), status


@bp.route("/rating/facilities/new", methods=["GET", "POST"])
@require_roles(*STAFF)
def facility_new() -> Any:
    session = get_session()
    problems: list[str] = []
    if request.method == "POST":
        data, problems = _facility_data(request.form)
        value, _org, problem = picker.read(session, _actor(), request.form, "organisation_id")
        if problem is not None:
            problems.append(problem)
        org_id = valid_id(value or _actor().organisation_id)
        if org_id not in visible_org_ids(session, _actor()):
            abort(404)
        if not problems:
            try:
                facility = ops.create_facility(session=session, actor=_actor(), organisation_id=org_id, data=data)
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                flash(_("已登记机构：%(name)s", name=facility.name))
                return redirect(url_for("rating.facility", facility_id=facility.id))
    return render_template("rating/facility_edit.html", facility=None, form=request.form, problems=problems,
                           **_pickers(request.form, new=True)), 422 if problems else 200


@bp.route("/rating/facilities/<int:facility_id>")
@require_roles(*STAFF)
def facility(facility_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, Facility, facility_id, _actor())
    grades = queries.grade_history(session, item)
    statuses = {g.id: ops.grade_status(grade=g, facility=item) for g in grades}
    schemes = [d for d in rating_schemes() if item.kind in facility_kinds_for(d)]
    current = queries.current_grade(session, item)
    return render_template("rating/facility.html", facility=item, grades=grades, statuses=statuses,
                           inspections=queries.inspections(session, _actor(), facility_id=item.id),
                           actions=queries.actions(session, _actor(), which="open", facility_id=item.id),
                           schemes=schemes, current=current, standing=standing(session, item, current),
                           money=money)


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
                status = 409
                problems = [_("这家机构刚被其他人修改过。您填写的内容保留在下面；请核对最新信息（另开页面查看）后再保存。")]
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                flash(_("已保存。"))
                return redirect(url_for("rating.facility", facility_id=item.id))
    form = request.form if request.method == "POST" else {
        "name": item.name, "kind": item.kind, "district": item.district, "address": item.address,
        "beds": item.beds, "operator": item.operator, "filing_status": item.filing_status,
        "opened_on": item.opened_on.isoformat() if item.opened_on else "",
        "operator_organisation_id": item.operator_organisation_id or ""}
    return render_template("rating/facility_edit.html", facility=item, form=form, problems=problems,
                           **_pickers(form, new=False)), status if status != 200 else (
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
        flash_problems(exc)
        return redirect(url_for("rating.facility", facility_id=item.id))
    return redirect(url_for("rating.inspection", inspection_id=inspection.id))


# --- plans --------------------------------------------------------------------------------


