"""What the rating side exports (core.exports): inspections with their section scores and grade,
corrective actions and certificates, with the filters of their lists (rating.lists). Nothing
personal is in these records; the inspectors are named by their user names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from core.exports import Column, ExportOptions, ExportSpec, register
from core.i18n import N_, local_time
from core.paging import Page, PageParams
from rating import lists
from rating.models import (
    ACTION_STATUSES,
    CERTIFICATE_STATUSES,
    INSPECTION_STATUSES,
    SEVERITIES,
)
from rating.operations.actions import display_status
from rating.operations.certificates import certificate_status

STAFF = ("admin", "inspector")
ACTION_LABELS = ACTION_STATUSES | {"overdue": N_("已逾期")}
ALL = ("admin", "inspector", "operator")


def section_scores(result: dict[str, Any] | None, *, english: bool = False) -> str:
    """"environment 环境 180/200；…": every section of the result with its score and maximum."""
    parts = []
    for key, section in ((result or {}).get("sections") or {}).items():
        if isinstance(section, dict):
            label = (section.get("label_en") if english else None) or section.get("label") or ""
            parts.append(f"{key} {label} {section.get('score', '')}/{section.get('max', '')}")
    return "；".join(parts)


def grade_label(result: dict[str, Any] | None, *, english: bool = False) -> str:
    grade = (result or {}).get("grade")
    if not isinstance(grade, dict):
        return ""
    return str((grade.get("label_en") if english else None) or grade.get("label") or "")


def _finder(name: str) -> Any:
    finder = getattr(lists, name)

    def page(session: Any, user: Any, args: Mapping[str, Any], params: PageParams) -> Page:
        return finder(session, user, args, params, count_cap=None)[0]  # type: ignore[no-any-return]

    def count(session: Any, user: Any, args: Mapping[str, Any], cap: int) -> tuple[int, bool]:
        return finder(session, user, args, PageParams(limit=1), count_cap=cap)[1]  # type: ignore[no-any-return]

    return page, count


# --- inspections --------------------------------------------------------------------------------


def inspection_columns(_options: ExportOptions) -> list[Column]:
    return [
        Column(_l("检查编号"), lambda r, o: r[0].id),
        Column(_l("机构"), lambda r, o: r[1]),
        Column(_l("监管机构"), lambda r, o: o.org_name(r[0].organisation_id)),
        Column(_l("评定方案"), lambda r, o: r[0].scheme),
        Column(_l("方案版本"), lambda r, o: r[0].scheme_version),
        Column(_l("检查计划"), lambda r, o: r[0].plan_id),
        Column(_l("复查"), lambda r, o: r[0].is_reinspection),
        Column(_l("状态"), lambda r, o: o.label(INSPECTION_STATUSES, r[0].status)),
        Column(_l("各部分得分"), lambda r, o: section_scores(r[0].result, english=o.english)),
        Column(_l("总分"), lambda r, o: (r[0].result or {}).get("total")),
        Column(_l("满分"), lambda r, o: (r[0].result or {}).get("max_total")),
        Column(_l("等级代码"), lambda r, o: r[0].proposed_grade_code),
        Column(_l("等级"), lambda r, o: grade_label(r[0].result, english=o.english)),
        Column(_l("一票否决"), lambda r, o: bool((r[0].result or {}).get("vetoed"))),
        Column(_l("不合格"), lambda r, o: r[0].is_unqualified),
        Column(_l("整改期限"), lambda r, o: local_time(r[0].rectification_due_at)),
        Column(_l("检查员"), lambda r, o: o.user_name(r[0].created_by_id)),
        Column(_l("开始时间"), lambda r, o: local_time(r[0].created_at)),
        Column(_l("提交时间"), lambda r, o: local_time(r[0].submitted_at)),
        Column(_l("审批时间"), lambda r, o: local_time(r[0].approved_at)),
    ]


_page, _count = _finder("inspections_page")
register(ExportSpec(name="inspections", title=_l("机构检查"), roles=STAFF, page=_page, count=_count,
                    columns=inspection_columns,
                    filters=("org", "status", "facility", "district", "plan", "scheme", "inspector", "from", "to")))


# --- corrective actions -------------------------------------------------------------------------


def action_columns(_options: ExportOptions) -> list[Column]:
    return [
        Column(_l("整改编号"), lambda r, o: r[0].id),
        Column(_l("机构"), lambda r, o: r[1]),
        Column(_l("检查编号"), lambda r, o: r[0].inspection_id),
        Column(_l("部分"), lambda r, o: r[0].section),
        Column(_l("检查项"), lambda r, o: r[0].item_id),
        Column(_l("问题"), lambda r, o: r[0].description),
        Column(_l("整改要求"), lambda r, o: r[0].required_action),
        Column(_l("严重程度"), lambda r, o: o.label(SEVERITIES, r[0].severity)),
        Column(_l("扣分"), lambda r, o: r[0].points_lost),
        Column(_l("期限"), lambda r, o: local_time(r[0].due_at)),
        Column(_l("状态"), lambda r, o: o.label(ACTION_LABELS, display_status(r[0]))),
        Column(_l("整改说明"), lambda r, o: r[0].evidence_note or ""),
        Column(_l("提交材料时间"), lambda r, o: local_time(r[0].evidence_at)),
        Column(_l("核验时间"), lambda r, o: local_time(r[0].verified_at)),
        Column(_l("升级时间"), lambda r, o: local_time(r[0].escalated_at)),
    ]


_page, _count = _finder("actions_page")
register(ExportSpec(name="actions", title=_l("整改"), roles=ALL, page=_page, count=_count,
                    columns=action_columns,
                    filters=("org", "which", "status", "facility", "district", "inspection", "severity",
                             "from", "to")))


# --- certificates -------------------------------------------------------------------------------


def _certificate_status(row: Any, options: ExportOptions) -> str:
    certificate, grade, facility = row
    status, _reason = certificate_status(certificate=certificate, grade=grade, facility=facility)
    return options.label(CERTIFICATE_STATUSES, status)


def certificate_columns(_options: ExportOptions) -> list[Column]:
    return [
        Column(_l("证书编号"), lambda r, o: r[0].serial),
        Column(_l("机构"), lambda r, o: r[2].name),
        Column(_l("区"), lambda r, o: r[2].district),
        Column(_l("评定方案"), lambda r, o: r[1].scheme),
        Column(_l("等级代码"), lambda r, o: r[1].code),
        Column(_l("等级"), lambda r, o: r[1].label),
        Column(_l("星级"), lambda r, o: r[1].stars),
        Column(_l("奖牌"), lambda r, o: r[1].medal or ""),
        Column(_l("发证日期"), lambda r, o: r[0].issued_on),
        Column(_l("有效期至"), lambda r, o: r[0].valid_until),
        Column(_l("状态"), lambda r, o: _certificate_status(r, o)),
        Column(_l("撤销时间"), lambda r, o: local_time(r[0].revoked_at)),
        Column(_l("撤销原因"), lambda r, o: r[0].revoked_reason or ""),
        Column(_l("监管机构"), lambda r, o: o.org_name(r[0].organisation_id)),
    ]


_page, _count = _finder("certificates_page")
register(ExportSpec(name="certificates", title=_l("证书"), roles=STAFF, page=_page, count=_count,
                    columns=certificate_columns,
                    filters=("org", "facility", "district", "plan", "scheme", "revoked", "from", "to")))
