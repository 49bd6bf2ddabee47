"""What the assessment side exports (core.exports): elders and assessments, with the filters of
their lists (assessment.lists), and the hand-over record for the provincial or national
platform (docs/record-format.md). ID numbers and phones are masked unless the export is
unmasked (an administrator with a reason); diagnoses and what they change are left out unless
unmasked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from assessment import lists
from assessment.models import GENDERS, REASONS, STATUSES
from core.exports import Column, ExportOptions, ExportSpec, register
from core.i18n import local_date, local_time
from core.paging import Page, PageParams

READ = ("assessor", "reviewer", "admin")
PLATFORM_INSTRUMENT = "gbt42195-2022"


def _level(result: dict[str, Any] | None, key: str) -> dict[str, Any]:
    return ((result or {}).get(key) or {}) if isinstance((result or {}).get(key), dict) else {}


def level_label(result: dict[str, Any] | None, key: str = "level", *, english: bool = False) -> str:
    level = _level(result, key)
    return str((level.get("label_en") if english else None) or level.get("label") or "")


def level_code(result: dict[str, Any] | None, key: str = "level") -> Any:
    return _level(result, key).get("code")


def domain_scores(result: dict[str, Any] | None, *, english: bool = False) -> str:
    """"B1 自理能力 20/32；B2 …": every domain of the result with its score and maximum."""
    parts = []
    for key, domain in ((result or {}).get("domains") or {}).items():
        if not isinstance(domain, dict):
            continue
        label = (domain.get("label_en") if english else None) or domain.get("label") or ""
        parts.append(f"{key} {label} {domain.get('score', '')}/{domain.get('max', '')}".replace("  ", " "))
    return "；".join(parts)


def adjustments(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = (result or {}).get("adjustments") or []
    return [a for a in found if isinstance(a, dict)]


def adjustment_text(result: dict[str, Any] | None) -> str:
    return "；".join(str(a.get("label") or a.get("id") or "") for a in adjustments(result))


# --- elders -------------------------------------------------------------------------------------


def _elder_page(session: Any, user: Any, args: Mapping[str, Any], params: PageParams) -> Page:
    return lists.elders_page(session, user, args, params, count_cap=None)[0]


def _elder_count(session: Any, user: Any, args: Mapping[str, Any], cap: int) -> tuple[int, bool]:
    return lists.elders_page(session, user, args, PageParams(limit=1), count_cap=cap)[1]


def elder_columns(_options: ExportOptions) -> list[Column]:
    def state(row: Any) -> Any:
        return row[1]

    return [
        Column(_l("编号"), lambda r, o: r[0].id),
        Column(_l("姓名"), lambda r, o: r[0].name),
        Column(_l("性别"), lambda r, o: o.label(GENDERS, r[0].gender)),
        Column(_l("出生日期"), lambda r, o: r[0].birth_date),
        Column(_l("身份证号"), lambda r, o: o.reveal(r[0].id_number_enc, r[0].id_number_masked)),
        Column(_l("电话"), lambda r, o: o.reveal(r[0].phone_enc, r[0].phone_masked)),
        Column(_l("地址"), lambda r, o: r[0].address),
        Column(_l("社区"), lambda r, o: r[0].community),
        Column(_l("联系人"), lambda r, o: r[0].contact_name),
        Column(_l("联系人电话"), lambda r, o: o.reveal(r[0].contact_phone_enc, r[0].contact_phone_masked)),
        Column(_l("机构"), lambda r, o: o.org_name(r[0].organisation_id)),
        Column(_l("当前等级代码"), lambda r, o: state(r).level_code if state(r) else None),
        Column(_l("当前等级"), lambda r, o: (state(r).level_label or "") if state(r) else ""),
        Column(_l("最近评估编号"), lambda r, o: state(r).latest_assessment_id if state(r) else None),
        Column(_l("应复评日期"), lambda r, o: state(r).next_due_on if state(r) else None),
        Column(_l("登记时间"), lambda r, o: local_time(r[0].created_at)),
    ]


ELDER_FILTERS = ("q", "org", "community", "level", "due_from", "due_to")

register(ExportSpec(name="elders", title=_l("老年人"), roles=READ, page=_elder_page, count=_elder_count,
                    columns=elder_columns, filters=ELDER_FILTERS))


# --- assessments --------------------------------------------------------------------------------


def _assessment_page(session: Any, user: Any, args: Mapping[str, Any], params: PageParams) -> Page:
    return lists.assessments_page(session, user, args, params, count_cap=None)[0]


def _assessment_count(session: Any, user: Any, args: Mapping[str, Any], cap: int) -> tuple[int, bool]:
    return lists.assessments_page(session, user, args, PageParams(limit=1), count_cap=cap)[1]


def report_no(assessment: Any) -> str:
    return f"PG{assessment.id:08d}-{assessment.revision}"


def assessment_columns(options: ExportOptions) -> list[Column]:
    if options.variant == "platform":
        return platform_columns(options)
    columns = [
        Column(_l("评估编号"), lambda r, o: r[0].id),
        Column(_l("报告编号"), lambda r, o: report_no(r[0])),
        Column(_l("修订"), lambda r, o: r[0].revision),
        Column(_l("老人编号"), lambda r, o: r[0].elder_id),
        Column(_l("姓名"), lambda r, o: r[1].name if r[1] else ""),
        Column(_l("身份证号"), lambda r, o: o.reveal(r[1].id_number_enc, r[1].id_number_masked) if r[1] else ""),
        Column(_l("社区"), lambda r, o: r[1].community if r[1] else ""),
        Column(_l("机构"), lambda r, o: o.org_name(r[0].organisation_id)),
        Column(_l("评估工具"), lambda r, o: r[0].instrument_id),
        Column(_l("工具版本"), lambda r, o: r[0].instrument_version),
        Column(_l("原因"), lambda r, o: o.label(REASONS, r[0].reason)),
        Column(_l("状态"), lambda r, o: o.label(STATUSES, r[0].status)),
        Column(_l("能力维度得分"), lambda r, o: domain_scores(r[0].result, english=o.english)),
        Column(_l("总分"), lambda r, o: (r[0].result or {}).get("total")),
        Column(_l("满分"), lambda r, o: (r[0].result or {}).get("max_total")),
        Column(_l("初步等级代码"), lambda r, o: level_code(r[0].result, "preliminary_level")),
        Column(_l("初步等级"), lambda r, o: level_label(r[0].result, "preliminary_level", english=o.english)),
        Column(_l("最终等级代码"), lambda r, o: level_code(r[0].result)),
        Column(_l("最终等级"), lambda r, o: level_label(r[0].result, english=o.english)),
    ]
    if options.unmasked:  # the basis of a change of level can name a diagnosis (C.4)
        columns.append(Column(_l("等级变更依据"), lambda r, o: adjustment_text(r[0].result)))
    else:
        columns.append(Column(_l("等级变更项数"), lambda r, o: len(adjustments(r[0].result))))
    columns += [
        Column(_l("评估员"), lambda r, o: o.user_name(r[0].created_by_id)),
        Column(_l("开始时间"), lambda r, o: local_time(r[0].created_at)),
        Column(_l("提交时间"), lambda r, o: local_time(r[0].submitted_at)),
        Column(_l("审核时间"), lambda r, o: local_time(r[0].approved_at)),
        Column(_l("更新时间"), lambda r, o: local_time(r[0].updated_at)),
    ]
    return columns


# --- the hand-over record (docs/record-format.md) -----------------------------------------------

# GB/T 42195-2022 Annex A.1.3 reason wording; ours are the same four reasons.
PLATFORM_REASONS = {"initial": "首次评估", "routine": "常规评估", "immediate": "即时评估",
                    "review": "因对评估结果有疑问进行的复评"}
PLATFORM_GENDERS = {"male": "男", "female": "女"}
# Annex C.1 domain scores: C.1.1..C.1.4 are the domains B1..B4 of the instrument.
PLATFORM_DOMAINS = (("C.1.1", "自理能力", "B1"), ("C.1.2", "基础运动能力", "B2"),
                    ("C.1.3", "精神状态", "B3"), ("C.1.4", "感知觉与社会参与", "B4"))


def _domain_score(result: dict[str, Any] | None, key: str) -> Any:
    domain = ((result or {}).get("domains") or {}).get(key)
    return domain.get("score") if isinstance(domain, dict) else None


def _standard_level(result: dict[str, Any] | None, key: str) -> str:
    return str(_level(result, key).get("label") or "")


def _diagnoses(assessment: Any) -> str:
    value = (assessment.answers or {}).get("A.4.1")
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if value in (None, "") else str(value)


def _coma(assessment: Any) -> str:
    value = (assessment.answers or {}).get("A.5.11")
    return "" if value is None else ("有" if value else "无")


def platform_columns(options: ExportOptions) -> list[Column]:
    """The fields of docs/record-format.md, in its order; headers are the standard's codes and
    names (a contract: the same in every language)."""
    columns = [
        Column("A.1.1 评估编号", lambda r, o: report_no(r[0])),
        Column("A.1.2 评估基准日期", lambda r, o: local_date(r[0].submitted_at or r[0].created_at)),
        Column("A.1.3 评估原因", lambda r, o: PLATFORM_REASONS.get(r[0].reason, r[0].reason)),
        Column("A.2.1 姓名", lambda r, o: r[1].name if r[1] else ""),
        Column("A.2.2 性别", lambda r, o: PLATFORM_GENDERS.get(r[1].gender, r[1].gender) if r[1] else ""),
        Column("A.2.3 出生日期", lambda r, o: r[1].birth_date.isoformat() if r[1] else ""),
        Column("A.2.8 公民身份证号码",
               lambda r, o: o.reveal(r[1].id_number_enc, r[1].id_number_masked) if r[1] else ""),
        Column("A.4.1 疾病诊断", lambda r, o: _diagnoses(r[0]) if o.unmasked else ""),
        Column("A.5.11 昏迷", lambda r, o: _coma(r[0]) if o.unmasked else ""),
    ]
    for code, name, key in PLATFORM_DOMAINS:
        columns.append(Column(f"{code} {name}", lambda r, o, key=key: _domain_score(r[0].result, key)))
    columns += [
        Column("C.2 初步等级得分", lambda r, o: (r[0].result or {}).get("total")),
        Column("C.3 初步等级", lambda r, o: _standard_level(r[0].result, "preliminary_level")),
        Column("C.4 能力等级变更依据", lambda r, o: adjustment_text(r[0].result) if o.unmasked else ""),
        Column("C.5 最终等级", lambda r, o: _standard_level(r[0].result, "level")),
        Column("level_code", lambda r, o: level_code(r[0].result)),
        Column("instrument_id", lambda r, o: r[0].instrument_id),
        Column("instrument_version", lambda r, o: r[0].instrument_version),
        Column("organisation", lambda r, o: o.org_name(r[0].organisation_id)),
        Column("approved_at", lambda r, o: r[0].approved_at.isoformat() if r[0].approved_at else ""),
        Column("yiyang_assessment_id", lambda r, o: r[0].id),
        Column("yiyang_elder_id", lambda r, o: r[0].elder_id),
    ]
    return columns


def prepare_assessment_args(args: Mapping[str, Any], options: ExportOptions) -> Mapping[str, Any]:
    """The platform record holds the current version of every approved GB/T 42195 assessment."""
    from core.paging import PagingError

    if options.variant != "platform":
        return args
    instrument = str(args.get("instrument") or PLATFORM_INSTRUMENT)
    if instrument != PLATFORM_INSTRUMENT:
        raise PagingError("instrument", f"平台上报格式只适用于 {PLATFORM_INSTRUMENT}")
    if args.get("status") not in (None, "", "approved"):
        raise PagingError("status", "平台上报格式只包含已审核锁定的评估（status=approved）")
    return {**dict(args), "instrument": instrument, "status": "approved", "current": "1"}


ASSESSMENT_FILTERS = ("org", "status", "instrument", "assessor", "elder", "from", "to", "level", "reason",
                      "current", "community")

register(ExportSpec(name="assessments", title=_l("评估"), roles=READ, page=_assessment_page,
                    count=_assessment_count, columns=assessment_columns, variants=("list", "platform"),
                    filters=ASSESSMENT_FILTERS, prepare=prepare_assessment_args))
