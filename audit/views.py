"""The audit log for administrators: filter by person, record, action and date; export."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from audit import record_event
from audit.queries import PAGE_SIZE, AuditFilter, action_names, filtered, page_of
from core.auth import require_roles
from core.db import get_session
from core.navigation import register_home_card, register_nav

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

register_nav("audit.index", _l("审计日志"), roles=("admin",), order=95)
register_home_card("audit.index", _l("审计日志"), _l("谁在何时改了什么，按人员、记录、日期查找"),
                   roles=("admin",), order=95)


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filter_from_request() -> AuditFilter:
    args = request.args
    return AuditFilter(
        person=args.get("person", "").strip()[:80],
        action=args.get("action", "").strip()[:64],
        target_type=args.get("target_type", "").strip()[:64],
        target_id=args.get("target_id", "").strip()[:64],
        date_from=_parse_date(args.get("from")),
        date_to=_parse_date(args.get("to")),
    )


@bp.route("/")
@require_roles("admin")
def index() -> Any:
    db = get_session()
    flt = _filter_from_request()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    events, total = page_of(db, current_user, flt, page)
    return render_template("audit/index.html", events=events, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), flt=flt,
                           actions=action_names(db))


@bp.route("/export.csv")
@require_roles("admin")
def export() -> Response:
    db = get_session()
    flt = _filter_from_request()
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
    writer = csv.writer(out)
    writer.writerow(["id", "时间(UTC)", "用户", "角色", "机构", "操作", "对象类型", "对象", "变更", "原因", "地址", "请求", "哈希"])
    for e in db.exec(filtered(db, current_user, flt).limit(100_000)):
        writer.writerow([e.id, e.at.isoformat(), e.username or "", e.roles or "", e.organisation_id or "",
                         e.action, e.target_type or "", e.target_id or "", e.changes or "", e.reason or "",
                         e.client_address or "", e.request_id or "", e.hash])
    record_event(session=db, action="audit.export", changes={"filter": flt.__dict__ | {
        "date_from": str(flt.date_from or ""), "date_to": str(flt.date_to or "")}})
    db.commit()
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})
