"""The assessment blueprint, its menus and the helpers every assessment page uses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from assessment import queries
from assessment.cli import register as register_cli
from assessment.models import Assessment
from assessment.workflow import ASSESSMENT
from core.db import get_session
from core.i18n import page_lang as _lang  # noqa: F401  (the views of the package import it from here)
from core.navigation import register_home_card, register_nav
from core.workflow import Context, allowed_actions
from core.workflow import register as register_workflow

bp = Blueprint("assessment", __name__, cli_group="assessment")
register_cli(bp)

READ = ("assessor", "reviewer", "admin")
WRITE = ("assessor",)
REVEAL = ("reviewer", "admin")

register_nav("assessment.index", _l("评估"), roles=READ, order=10)
register_nav("assessment.elders", _l("老年人"), roles=READ, order=11)
register_home_card("assessment.elders", _l("老年人登记与查找"), _l("按姓名或身份证号查找，登记新老人"),
                   roles=READ, order=10)
register_home_card("assessment.index", _l("能力评估"), _l("继续草稿、签名审核、查看结果"), roles=READ,
                   order=11)
register_home_card("assessment.due", _l("复评提醒"), _l("即将到期和已逾期的复评"), roles=READ, order=12)
register_home_card("assessment.entitlements", _l("等级待遇表"), _l("各等级对应的服务与每月补贴"),
                   roles=("admin",), order=40)


def workflow_context(_record: Any) -> Context:
    """What the assessment workflow's guards need when a page asks which buttons to draw."""
    return Context(get_session(), {"required_signatures": queries.required_signatures(),
                                   "separation_of_duties": queries.separation_of_duties()})


register_workflow(Assessment, ASSESSMENT, workflow_context)
bp.add_app_template_global(allowed_actions, "allowed_actions")


def _user() -> Any:
    return current_user._get_current_object()


# --- elders -------------------------------------------------------------------------------

