"""Pages for the organisation tree: the administrator creates, renames, moves and deactivates
organisations and gives third-party agencies contracts over areas. Same blueprint as accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import select

from accounts import organisations as orgs
from accounts.models import ORG_KINDS, Organisation, OrganisationContract
from accounts.queries import is_managed
from accounts.tree import level_page, move_candidates
from accounts.views import bp
from core.auth import require_roles
from core.db import EditConflict, get_session, valid_id
from core.navigation import register_home_card, register_nav
from core.paging import PagingError, page_params

register_nav("accounts.organisations", _l("机构"), roles=("admin",), order=89)
register_home_card("accounts.organisations", _l("机构管理"), _l("建立区县、街道、社区和第三方评估机构，签约服务区域"),
                   roles=("admin",), order=89)


def _messages(error: orgs.OrganisationError) -> list[str]:
    return [_(e["message"]) for e in error.errors]


def _managed(db: Any, key: Any) -> Organisation | None:
    org_id = valid_id(key.strip() if isinstance(key, str) else key)
    org = db.get(Organisation, org_id) if org_id is not None else None
    return org if is_managed(db, current_user, org) else None


@bp.route("/admin/organisations", methods=["GET", "POST"])
@require_roles("admin")
def organisations() -> Any:
    """One level of the tree (`parent`, default the user's roots) or a name search (`q`),
    keyset-paged (accounts.tree.level_page); the form adds an organisation under the level's node."""
    db = get_session()
    problems: list[str] = []
    typed = {"name": "", "kind": "", "parent_id": ""}
    if request.method == "POST":
        typed = {k: request.form.get(k, "").strip() for k in typed}
        parent = _managed(db, typed["parent_id"])
        if parent is None:
            problems.append(_("请选择您管理范围内的上级机构。"))
        else:
            try:
                org = orgs.create_organisation(session=db, name=typed["name"], kind=typed["kind"], parent=parent,
                                               actor=current_user)
            except orgs.OrganisationError as error:
                problems += _messages(error)
            else:
                flash(_("已新建机构：%(name)s", name=org.name), "success")
                return redirect(url_for("accounts.organisations", parent=parent.id))
    level, problem, status = None, None, 422 if problems else 200
    try:
        level = level_page(db, current_user, request.args, page_params(request.args))
    except PagingError as error:
        problem, status = error.message, 422
    shown = ([level.node] if level.node else []) + level.page.items if level else []
    managed = {o.id for o in shown if is_managed(db, current_user, o)}
    # The form's parents: the level's node and the organisations on this page, those managed and active.
    parents = [] if level is None or level.searching else [o for o in shown if o.id in managed and o.is_active]
    if not typed["parent_id"] and parents:
        typed["parent_id"] = str(parents[0].id)
    labels = {"kinds": {code: _(label) for code, label in ORG_KINDS.items()}, "active": _("启用"),
              "inactive": _("停用"), "manage": _("管理"), "contracted": _("签约区域"), "none": _("无")}
    return render_template("accounts/organisations.html", level=level, kinds=ORG_KINDS, managed=managed,
                           parents=parents, labels=labels, problems=problems, problem=problem,
                           typed=typed), status


@bp.route("/admin/organisations/<int:organisation_id>", methods=["GET", "POST"])
@require_roles("admin")
def organisation(organisation_id: int) -> Any:
    db = get_session()
    org = _managed(db, organisation_id)
    if org is None:
        abort(404)
    problems: list[str] = []
    if request.method == "POST":
        action = request.form.get("action", "save")
        try:
            problems = _apply(db, org, action)
        except EditConflict:
            problems = [_("机构刚被其他人修改过，已显示最新内容；请核对后再保存。")]
        if not problems:  # the unit of work commits the redirect and rolls back the 422 below
            flash(_("已保存。"), "success")
            return redirect(url_for("accounts.organisation", organisation_id=org.id))
        db.refresh(org)  # every refusal comes before a write: show what is stored
    own = db.get(Organisation, current_user.organisation_id)
    find = request.args.get("find", "").strip()[:200]
    candidates = move_candidates(db, org, own, find) if own is not None else []
    contracts = list(db.exec(select(OrganisationContract).where(OrganisationContract.agency_id == org.id)
                             .order_by(OrganisationContract.id)))  # type: ignore[arg-type]
    # Only the organisations named on this page: the parent and the contracts' areas.
    wanted = {c.organisation_id for c in contracts} | ({org.parent_id} if org.parent_id else set())
    areas = {o.id: o for o in db.exec(select(Organisation).where(Organisation.id.in_(wanted)))} if wanted else {}  # type: ignore[union-attr]
    return render_template("accounts/organisation.html", org=org, kinds=ORG_KINDS, candidates=candidates,
                           find=find, contracts=contracts, areas=areas, problems=problems,
                           is_own=org.id == current_user.organisation_id), 422 if problems else 200


def _apply(db: Any, org: Organisation, action: str) -> list[str]:
    form = request.form
    try:
        if action == "save":
            moving = form.get("parent_id", "").strip() != str(org.parent_id or "")
            parent = _managed(db, form.get("parent_id")) if moving else None
            if moving and (parent is None or org.id == current_user.organisation_id):
                return [_("请选择您管理范围内的上级机构；不能移动自己所在的机构。")]
            version = valid_id(form.get("version"))
            orgs.update_organisation(session=db, actor=current_user, organisation=org, version=version,
                                     name=form.get("name", ""), kind=form.get("kind") or None, parent=parent,
                                     move=moving)
        elif action in ("deactivate", "activate"):
            if org.id == current_user.organisation_id:
                return [_("不能停用自己所在的机构。")]
            orgs.update_organisation(session=db, actor=current_user, organisation=org,
                                     is_active=action == "activate")
        elif action == "contract":
            area = _managed(db, form.get("area_id"))
            if area is None:
                return [_("请选择签约区域。")]
            until = _date(form.get("valid_until", ""))
            if until is False:
                return [_("结束日期格式应为 年-月-日。")]
            orgs.grant_contract(session=db, actor=current_user, agency=org, organisation=area,
                                valid_until=until or None)
        elif action == "end_contract":
            contract = db.get(OrganisationContract, valid_id(form.get("contract_id")) or 0)
            if contract is None or contract.agency_id != org.id:
                abort(404)
            orgs.end_contract(session=db, actor=current_user, contract=contract)
        else:
            abort(400)
    except orgs.OrganisationError as error:
        return _messages(error)
    return []


def _date(value: str) -> date | None | bool:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return False
