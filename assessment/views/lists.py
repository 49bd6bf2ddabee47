"""Assessment lists: recent, reassessments due, and the entitlement table."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from accounts import picker
from accounts.models import Organisation
from assessment import lists, queries
from assessment import operations as ops
from assessment.models import REASONS, STATUSES
from assessment.presenters import money
from assessment.views.common import READ, _user, bp
from core.auth import require_roles
from core.db import get_session
from core.paging import Page, PagingError, page_params
from core.timeutil import local_today

# --- lists ------------------------------------------------------------------------------------


@bp.route("/assessments")
@require_roles(*READ)
def index() -> Any:
    db, user = get_session(), _user()
    problem, status = None, 200
    try:
        target = picker.filter_target(db, user, request.args)
        if target is not None:
            return redirect(url_for("assessment.index", **target))
        page, count = lists.assessments_page(db, user, request.args, page_params(request.args))
    except PagingError as error:
        page, count, problem, status = Page(items=[]), None, error.message, 422
    counts = lists.due_counts(db, user)
    return render_template("assessment/index.html", rows=page.items, page=page, count=count, problem=problem,
                           statuses=STATUSES, reasons=REASONS, status=request.args.get("status"),
                           due_count=counts["soon"], overdue_count=counts["overdue"],
                           org_picker=_org_filter(db, user, problem),
                           definitions=queries.assessment_definitions()), status


@bp.route("/assessments/due")
@require_roles(*READ)
def due() -> Any:
    db, user = get_session(), _user()
    problem, status = None, 200
    try:
        target = picker.filter_target(db, user, request.args)
        if target is not None:
            return redirect(url_for("assessment.due", **target))
        page = lists.due_page(db, user, request.args, page_params(request.args))
    except PagingError as error:
        page, problem, status = Page(items=[]), error.message, 422
    return render_template("assessment/due.html", page=page, counts=lists.due_counts(db, user),
                           kind=request.args.get("kind") or "all", problem=problem,
                           org_picker=_org_filter(db, user, problem), today=local_today()), status


def _org_filter(db: Any, user: Any, problem: str | None) -> picker.Picker:
    """The lists' `org` filter; after a refusal the box keeps what was typed."""
    return picker.build(db, user, name="org", selected=request.args.get("org"), blank=_("全部"),
                        typed=request.args.get("org_text") if problem else None)


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
            flash(_("已保存。"), "success")
            return redirect(url_for("assessment.entitlements", instrument=definition.id))
    table = queries.entitlements_table(db, organisation, definition.id)
    return render_template("assessment/entitlements.html", organisation=organisation, definition=definition,
                           definitions=definitions, table=table, problems=problems, money=money,
                           form=FlaskForm()), 422 if problems else 200

