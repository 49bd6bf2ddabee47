"""The grade reward table page (administrators): what each grade pays, edited per scheme, its
history, and the reward totals by district for a year."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import picker
from accounts.models import Organisation
from accounts.queries import subtree_ids, visible_org_ids
from core.auth import require_roles
from core.db import EditConflict, get_session
from core.navigation import register_nav
from rating import operations as ops
from rating import queries
from rating.models import GradeReward
from rating.rewards import money, reward_table, reward_totals, scheme_grades
from rating.schemes import rating_schemes
from rating.views.common import _actor, _problems, bp

register_nav("rating.rewards", _l("等级奖补"), roles=("admin",), order=45)


def _organisation() -> tuple[Organisation, str | None]:
    """The organisation whose table is shown (`org`, typed as `org_text` without JavaScript; the
    user's own by default), and why a typed name was not taken."""
    session = get_session()
    raw, _org, problem = picker.read(session, _actor(), request.values, "org")
    org_id = int(raw) if raw.isdigit() else _actor().organisation_id
    if org_id not in visible_org_ids(session, _actor()):
        abort(404)
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        abort(404)
    return organisation, problem


def _form_rows(scheme: str, levels: dict[int, Any], current: dict[int, GradeReward]) -> list[dict[str, Any]]:
    """What the page posted, as the rows the operation checks: a grade left blank is skipped; the
    row's version goes along when the start date is the one the page showed (an edit)."""
    rows = []
    for code in levels:
        amount = (request.form.get(f"amount_{code}") or "").strip()
        if not amount:
            continue
        valid_from = (request.form.get(f"valid_from_{code}") or "").strip()
        row: dict[str, Any] = {"scheme": scheme, "grade_code": code, "amount": amount,
                               "period": request.form.get(f"period_{code}", ""),
                               "note": request.form.get(f"note_{code}", ""), "valid_from": valid_from}
        shown = current.get(code)
        version = request.form.get(f"version_{code}", "")
        if (shown is not None and valid_from == shown.valid_from.isoformat() and row["period"] == shown.period
                and version.isdigit()):
            row["version"] = int(version)
        rows.append(row)
    return rows


@bp.route("/rating/rewards", methods=["GET", "POST"])
@require_roles("admin")
def rewards() -> Any:
    session = get_session()
    organisation, org_problem = _organisation()
    grades = scheme_grades()
    schemes = [d for d in rating_schemes() if d.id in grades]
    scheme = request.values.get("scheme") or (schemes[0].id if schemes else "")
    if scheme not in grades:
        abort(404)
    levels = grades[scheme]
    history = reward_table(session, organisation.id or 0, scheme)
    today = date.today()
    current: dict[int, GradeReward] = {}
    for row in history:  # newest start first: the row in force today, else the next one to start
        if row.grade_code not in current or (row.valid_from <= today < current[row.grade_code].valid_from):
            current[row.grade_code] = row
    problems: list[str] = [org_problem] if org_problem else []
    status = 422 if org_problem else 200
    if request.method == "POST":
        try:
            ops.save_grade_rewards(session=session, actor=_actor(), organisation=organisation,
                                   rewards=_form_rows(scheme, levels, current), grades=grades)
        except EditConflict:
            status, problems = 409, [_("奖补表刚被其他人修改过。您填写的内容保留在下面；请另开页面核对最新数值后再保存。")]
        except ops.RatingError as exc:
            status, problems = 422, _problems(exc)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("rating.rewards", scheme=scheme, org=organisation.id))
    if request.method == "POST":
        form: Any = request.form
    else:
        form = {}
        for code, row in current.items():
            form |= {f"amount_{code}": f"{row.amount_fen / 100:.2f}", f"period_{code}": row.period,
                     f"valid_from_{code}": row.valid_from.isoformat(), f"note_{code}": row.note,
                     f"version_{code}": str(row.version)}
    raw_year = request.args.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else today.year
    below = set(subtree_ids(session, organisation.id or 0))
    totals = reward_totals(session, organisation_ids=[o for o in visible_org_ids(session, _actor()) if o in below],
                           year=year)
    return render_template("rating/rewards.html", organisation=organisation, schemes=schemes, scheme=scheme,
                           levels=levels, history=history, current=current, form=form, problems=problems,
                           totals=totals, year=year, years=range(today.year, today.year - 6, -1), money=money,
                           org_picker=picker.build(session, _actor(), name="org", selected=organisation.id,
                                                   typed=request.args.get("org_text") if org_problem else None),
                           today=today), status


@bp.route("/rating/rewards/<int:grade_reward_id>/delete", methods=["POST"])
@require_roles("admin")
def reward_delete(grade_reward_id: int) -> Any:
    session = get_session()
    row = queries.get_or_404(session, GradeReward, grade_reward_id, _actor())
    version = request.form.get("version", "")
    try:
        ops.delete_grade_reward(session=session, actor=_actor(), reward=row,
                                version=int(version) if version.isdigit() else None)
    except EditConflict:
        flash(_("这一行刚被其他人修改过，未删除；请核对后再操作。"), "error")
    except ops.RatingError as exc:
        for p in _problems(exc):
            flash(p, "error")
    else:
        flash(_("已删除这一行。"), "success")
    return redirect(url_for("rating.rewards", scheme=row.scheme, org=row.organisation_id))
