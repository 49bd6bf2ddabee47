"""The statistics pages (administrator, reviewer): every figure with its chart and the list it
counts, filtered by period and organisation subtree; the printable monthly report (月报)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import picker
from core.auth import current_actor, require_roles
from core.db import get_session
from core.i18n import page_lang as _lang
from core.navigation import register_home_card, register_nav
from core.paging import PagingError
from stats import figures, monthly
from stats.cli import register as register_cli
from stats.params import StatsError, parse_filters

bp = Blueprint("stats", __name__, cli_group="stats")
register_cli(bp)
ROLES = ("admin", "reviewer")

register_nav("stats.index", _l("统计"), roles=ROLES, order=80)
register_home_card("stats.index", _l("统计与月报"), _l("按月份、区县、等级的评估与机构统计，打印月报"), roles=ROLES, order=80)


def _link(endpoint: str, args: dict[str, Any]) -> str:
    return url_for(endpoint, **args)


@bp.route("/stats")
@require_roles(*ROLES)
def index() -> Any:
    session, user = get_session(), current_actor()
    try:
        target = picker.filter_target(session, user, request.args)
        if target is not None:
            return redirect(url_for("stats.index", **target))
        filters = parse_filters(session, user, request.args)
    except (StatsError, PagingError) as error:
        problems = [e["message"] for e in error.errors] if isinstance(error, StatsError) else [error.message]
        organisations = picker.build(session, user, name="org", selected=request.args.get("org"),
                                     blank=_("我可查看的全部"), typed=request.args.get("org_text"))
        return render_template("stats/index.html", problems=problems, sections=[],
                               org_picker=organisations, args=request.args), 422
    organisations = picker.build(session, user, name="org", selected=filters.org, blank=_("我可查看的全部"))
    labels = figures.level_labels(_lang())
    sections = [
        (_("评估"), figures.assessment_figures(session, filters, _link, labels, "sans-serif")),
        (_("老人与待遇"), figures.elder_figures(session, filters, _link, labels, "sans-serif")),
        (_("机构与整改"), figures.rating_figures(session, filters, _link, "sans-serif")),
    ]
    return render_template("stats/index.html", problems=[], sections=sections, filters=filters,
                           org_picker=organisations, args=request.args,
                           report_month=filters.end.strftime("%Y-%m"))


@bp.route("/stats/monthly.pdf")
@require_roles(*ROLES)
def monthly_pdf() -> Any:
    session, user = get_session(), current_actor()
    month = str(request.args.get("month") or "")
    data = monthly.render(session, user, month=month, org=request.args.get("org"), lang=_lang())
    name = f"yiyang-monthly-{data.month}.pdf"
    return Response(data.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})
