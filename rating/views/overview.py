"""The rating start page and the administrator's dashboard."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _

from accounts.queries import visible_org_ids
from core.auth import require_roles
from core.db import get_session
from rating import operations as ops
from rating import queries
from rating.views.common import ALL, _actor, bp


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
    total = max(data["facility_count"], 1)
    chart = bar_chart_svg([{"label": label, "score": n, "max": total} for label, n in data["by_grade"]],
                          width=560, font_family="sans-serif", title=_("各等级机构数")) if data["by_grade"] else None
    return render_template("rating/dashboard.html", chart=chart, **data)


@bp.route("/rating/dashboard/escalate", methods=["POST"])
@require_roles("admin")
def escalate() -> Any:
    session = get_session()
    done = ops.escalate_overdue(session=session, actor=_actor(),
                                organisation_ids=visible_org_ids(session, _actor()))
    flash(_("已升级 %(n)d 项逾期整改。", n=len(done)))
    return redirect(url_for("rating.dashboard"))


