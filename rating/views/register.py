"""The public register page (no login): graded and disqualified facilities, keyset-paged, with
links to verify each certificate and to the published inspection plans and results."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request

from core.auth import public
from core.db import get_session
from core.i18n import page_lang
from core.paging import Page, PagingError, page_params
from core.ratelimit import limit_public
from rating.register import STATUSES, entry, grade_choices, register_page
from rating.rewards import scheme_grades
from rating.views.common import bp


@bp.route("/rating/register")
@public
def register() -> Any:
    """信息公开: current grades, validity, certificates to verify, disqualifications."""
    limit_public("register")
    problem, status = None, 200
    try:
        page = register_page(get_session(), request.args, page_params(request.args))
    except PagingError as error:
        page, problem, status = Page(items=[]), error.message, 422
    lang, levels, today = page_lang(), scheme_grades(), date.today()
    rows = [entry(row, lang, levels, today) for row in page.items]
    filters = {k: request.args.get(k, "") for k in ("district", "kind", "grade", "status")}
    return render_template("rating/register.html", rows=rows, page=page, problem=problem, filters=filters,
                           grades=grade_choices(lang), statuses=STATUSES, lang=lang), status
