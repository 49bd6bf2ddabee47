"""Inspection plans (双随机): list, draw, publish, start, issue certificates."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import select

from accounts.models import User
from accounts.queries import visible_org_ids
from core.auth import require_roles
from core.db import get_session
from rating import operations as ops
from rating import queries
from rating.models import (
    Facility,
    InspectionPlan,
)
from rating.schemes import rating_schemes
from rating.views.common import STAFF, _actor, _problems, bp, flash_problems


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
                                       facility_ids=[int(i) for i in f.getlist("facility_ids") if i.isdigit()],
                                       draw_now=False)
            except ops.RatingError as exc:
                problems = _problems(exc)
            else:
                flash(_("计划已创建：服务器生成的随机种子的哈希承诺已公布。公开计划后，再点“现在抽取”。"))
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
                           repeatable=ops.verify_draw(item), issuable=issuable,
                           inspections=queries.inspections(session, _actor(), plan_id=item.id),
                           certificates=queries.certificates(session, _actor(), plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/publish", methods=["POST"])
@require_roles("admin")
def plan_publish(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    ops.publish_plan(session=session, actor=_actor(), plan=item, results=request.form.get("results") == "1")
    flash(_("已公开。"))
    return redirect(url_for("rating.plan", plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/draw", methods=["POST"])
@require_roles("admin")
def plan_draw(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    try:
        ops.draw_plan(session=session, actor=_actor(), plan=item)
    except ops.RatingError as exc:
        flash_problems(exc)
    else:
        flash(_("已抽取，随机种子已公开。"))
    return redirect(url_for("rating.plan", plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/start", methods=["POST"])
@require_roles(*STAFF)
def plan_start(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    try:
        created = ops.start_plan_inspections(session=session, actor=_actor(), plan=item)
    except ops.RatingError as exc:
        flash_problems(exc)
        return redirect(url_for("rating.plan", plan_id=item.id))
    flash(_("已创建 %(n)d 项检查。", n=len(created)))
    return redirect(url_for("rating.plan", plan_id=item.id))


@bp.route("/rating/plans/<int:plan_id>/issue", methods=["POST"])
@require_roles("admin")
def plan_issue(plan_id: int) -> Any:
    session = get_session()
    item = queries.get_or_404(session, InspectionPlan, plan_id, _actor())
    grades = ops.issuable_grades(session=session, organisation_ids=visible_org_ids(session, _actor()), plan_id=item.id)
    issued = ops.issue_batch(session=session, actor=_actor(), grades=grades,
                             separation_of_duties=queries.separation_of_duties())
    flash(_("已发放 %(n)d 张证书（已发过的不会重复发放）。", n=len(issued)))
    return redirect(url_for("rating.plan", plan_id=item.id))


# --- inspections --------------------------------------------------------------------------


