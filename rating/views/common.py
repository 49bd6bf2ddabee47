"""The rating blueprint, its menus and label tables, and the helpers every rating page uses."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
)
from flask_babel import lazy_gettext as _l

from accounts.models import User
from core.auth import current_actor
from core.db import get_session
from core.i18n import N_, Labels
from core.navigation import register_home_card, register_nav
from core.storage import get_storage
from rating import operations as ops
from rating import queries
from rating.models import (
    ACTION_STATUSES,
    CERTIFICATE_STATUSES,
    FACILITY_KINDS,
    FILING_STATUSES,
    INSPECTION_STATUSES,
    SEVERITIES,
)

bp = Blueprint("rating", __name__)

STAFF = ("admin", "inspector")
ALL = ("admin", "inspector", "operator")

register_nav("rating.dashboard", _l("评定总览"), roles=("admin",), order=40)
register_nav("rating.inspections", _l("机构检查"), roles=("inspector",), order=41)
register_nav("rating.facilities", _l("机构"), roles=STAFF, order=42)
register_nav("rating.actions", _l("整改"), roles=ALL, order=43)
register_nav("rating.certificates", _l("证书"), roles=("admin",), order=44)
register_home_card("rating.inspections", _l("机构检查"), _l("按检查表现场打分，照片和备注随时自动保存"),
                   roles=STAFF, order=40,
                   count=lambda user: len(queries.inspections(get_session(), user, status="in_progress")))
register_home_card("rating.actions", _l("整改跟踪"), _l("查看待整改、即将到期和逾期的整改项"),
                   roles=ALL, order=41,
                   count=lambda user: len(queries.actions(get_session(), user, which="overdue")) or None)
register_home_card("rating.dashboard", _l("评定总览"), _l("等级分布、逾期整改、即将到期的等级"),
                   roles=("admin",), order=42)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    tables = {"FACILITY_KINDS": FACILITY_KINDS, "INSPECTION_STATUSES": INSPECTION_STATUSES,
              "ACTION_STATUSES": ACTION_STATUSES | {"overdue": N_("已逾期")}, "SEVERITIES": SEVERITIES,
              "CERTIFICATE_STATUSES": CERTIFICATE_STATUSES, "FILING_STATUSES": FILING_STATUSES}
    return {name: Labels(table) for name, table in tables.items()}


def _actor() -> User:
    return current_actor()  # type: ignore[no-any-return]


def _photo_dir() -> Any:
    return get_storage()  # core.storage: the instance folder, or the shared object store


def _problems(exc: ops.RatingError) -> list[str]:
    return [f"{e['item']}：{e['message']}" if e.get("item") else str(e["message"]) for e in exc.errors]


