"""Assessment lists: recent, reassessments due, and the entitlement table."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from accounts.models import Organisation
from assessment import operations as ops
from assessment import queries
from assessment.models import REASONS, STATUSES
from assessment.presenters import money
from assessment.views.common import READ, _user, bp
from core.auth import require_roles
from core.db import get_session

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
            flash(_("已保存。"), "success")
            return redirect(url_for("assessment.entitlements", instrument=definition.id))
    table = queries.entitlements_table(db, organisation, definition.id)
    return render_template("assessment/entitlements.html", organisation=organisation, definition=definition,
                           definitions=definitions, table=table, problems=problems, money=money,
                           form=FlaskForm()), 422 if problems else 200

