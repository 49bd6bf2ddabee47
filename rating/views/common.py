"""The rating blueprint, its menus and label tables, and the helpers every rating page uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash
from flask_babel import lazy_gettext as _l

from accounts.models import User
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_, Labels
from core.navigation import register_home_card, register_nav
from core.storage import get_storage
from core.workflow import Context, allowed_actions
from core.workflow import register as register_workflow
from rating import operations as ops
from rating import queries
from rating.models import (
    ACTION_STATUSES,
    CERTIFICATE_STATUSES,
    FACILITY_KINDS,
    FILING_STATUSES,
    INSPECTION_STATUSES,
    REWARD_PERIODS,
    SEVERITIES,
    Certificate,
    CorrectiveAction,
    Grade,
    Inspection,
)
from rating.workflow import ACTION, CERTIFICATE, GRADE, INSPECTION

bp = Blueprint("rating", __name__)

STAFF = ("admin", "inspector")
ALL = ("admin", "inspector", "operator")

def home_count(user: User, what: str, **args: str) -> int:
    """A home-card counter: at most 1,000 rows counted in SQL (core.paging.capped_count)."""
    from core.paging import PageParams
    from rating import lists

    finder = lists.inspections_page if what == "inspections" else lists.actions_page
    _page, (count, _more) = finder(get_session(), user, args, PageParams(limit=1))
    return count


register_nav("rating.dashboard", _l("评定总览"), roles=("admin",), order=40)
register_nav("rating.inspections", _l("机构检查"), roles=("inspector",), order=41)
register_nav("rating.facilities", _l("机构"), roles=STAFF, order=42)
register_nav("rating.actions", _l("整改"), roles=ALL, order=43)
register_nav("rating.certificates", _l("证书"), roles=("admin",), order=44)
register_home_card("rating.inspections", _l("机构检查"), _l("按检查表现场打分，照片和备注随时自动保存"),
                   roles=STAFF, order=40,
                   count=lambda user: home_count(user, "inspections", status="in_progress"))
register_home_card("rating.actions", _l("整改跟踪"), _l("查看待整改、即将到期和逾期的整改项"),
                   roles=ALL, order=41,
                   count=lambda user: home_count(user, "actions", which="overdue") or None)
register_home_card("rating.dashboard", _l("评定总览"), _l("等级分布、逾期整改、即将到期的等级"),
                   roles=("admin",), order=42)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    tables = {"FACILITY_KINDS": FACILITY_KINDS, "INSPECTION_STATUSES": INSPECTION_STATUSES,
              "ACTION_STATUSES": ACTION_STATUSES | {"overdue": N_("已逾期")}, "SEVERITIES": SEVERITIES,
              "CERTIFICATE_STATUSES": CERTIFICATE_STATUSES, "FILING_STATUSES": FILING_STATUSES,
              "REWARD_PERIODS": REWARD_PERIODS}
    return {name: Labels(table) for name, table in tables.items()}


def workflow_context(_record: Any) -> Context:
    """What the rating workflows' guards need when a page asks which buttons to draw."""
    return Context(get_session(), {"separation_of_duties": queries.separation_of_duties()})


register_workflow(Inspection, INSPECTION, workflow_context)
register_workflow(CorrectiveAction, ACTION, workflow_context)
register_workflow(Grade, GRADE, workflow_context)
register_workflow(Certificate, CERTIFICATE, workflow_context)
bp.add_app_template_global(allowed_actions, "allowed_actions")


@bp.app_template_filter("grade_text")
def grade_text(grade: Any) -> str:
    """A grade (a Grade, or a mapping with scheme, code and label) named in the page's language by
    rating.schemes.grade_name; the schemes' levels are read once per request."""
    from flask import g

    from core.i18n import page_lang
    from rating.rewards import scheme_grades
    from rating.schemes import grade_name

    if grade is None:
        return ""
    get = grade.get if isinstance(grade, Mapping) else lambda key: getattr(grade, key, None)
    if "grade_levels" not in g:
        g.grade_levels = scheme_grades()
    return grade_name(get("scheme"), get("code"), get("label"), page_lang(), g.grade_levels)


def _actor() -> User:
    return current_actor()  # type: ignore[no-any-return]


def _photo_dir() -> Any:
    return get_storage()  # core.storage: the instance folder, or the shared object store


def _problems(exc: ops.RatingError) -> list[str]:
    return [f"{e['item']}：{e['message']}" if e.get("item") else str(e["message"]) for e in exc.errors]


def flash_problems(exc: ops.RatingError) -> None:
    """Show every problem of a refused step on the page the view redirects to."""
    for problem in _problems(exc):
        flash(problem, "error")


def paged_list(finder: Any) -> tuple[Any, Any, str | None, int]:
    """(page, count, problem, status) of a rating.lists finder for the page's query arguments."""
    from flask import request

    from core.paging import Page, PagingError, page_params

    try:
        page, count = finder(get_session(), _actor(), request.args, page_params(request.args))
    except PagingError as error:
        return Page(items=[]), None, error.message, 422
    return page, count, None, 200
