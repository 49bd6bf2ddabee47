"""The monthly report (月报): one month's figures, tables and charts as a printable PDF through
reports.render_pdf, in the reader's language. The page (/stats/monthly.pdf?month=2026-11&org=ID)
and `yiyang stats monthly --month 2026-11 --org ID -o FILE` make the same document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from accounts.models import Organisation, User
from core.i18n import N_
from core.timeutil import local_today, local_zone, utcnow
from reports import render_pdf
from stats import figures
from stats.params import StatsError, parse_filters

FONT = "Yiyang Sans"  # the bundled font the document renders with (reports/fonts)


@dataclass
class MonthlyReport:
    month: str
    pdf: bytes


def _month(text: str, today: date) -> str:
    if not text:
        return f"{today.year:04d}-{today.month:02d}"
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        date(int(year), int(month), 1)
    except ValueError:
        raise StatsError([{"item": "month", "message": N_("month 应为 YYYY-MM")}]) from None
    return text


def _no_link(_endpoint: str, _args: dict[str, Any]) -> None:
    return None


def context(session: Session, user: User, *, month: str = "", org: Any = None, lang: str = "zh",
            link: Any = _no_link) -> dict[str, Any]:
    """What templates/documents/monthly_report.html shows (see its header)."""
    today = local_today()
    key = _month(month, today)
    year, number = int(key[:4]), int(key[5:])
    start_index = year * 12 + number - 1 - 11
    trend_from = f"{start_index // 12:04d}-{start_index % 12 + 1:02d}"
    args = {"from": key, "to": key, **({"org": org} if org not in (None, "") else {})}
    filters = parse_filters(session, user, args)
    trend = parse_filters(session, user, {**args, "from": trend_from})
    labels = figures.level_labels(lang)
    month_figures = figures.assessment_figures(session, filters, link, labels, FONT)
    trend_figures = figures.assessment_figures(session, trend, link, labels, FONT)
    rating = figures.rating_figures(session, filters, link, FONT)
    rating_trend = figures.rating_figures(session, trend, link, FONT)
    scope = session.get(Organisation, filters.org or user.organisation_id)
    return {
        "lang": lang, "month": key, "organisation": scope.name if scope else "",
        "generated_at": utcnow().astimezone(local_zone()).strftime("%Y-%m-%d %H:%M"),
        "title": _("养老服务评估与评定月报"),
        "labels": {"month": _("统计月份"), "organisation": _("统计范围"), "generated": _("生成时间"),
                   "trend": _("近 12 个月"), "note": _("各项统计口径见系统文档 docs/statistics.md。")},
        "sections": [
            (_("本月评估"), [month_figures[2]]),
            (_("近 12 个月评估"), [trend_figures[0], trend_figures[1]]),
            (_("老人与待遇（当前）"), figures.elder_figures(session, filters, link, labels, FONT)),
            (_("机构等级（当前）"), [rating[0]]),
            (_("近 12 个月整改"), [rating_trend[1]]),
        ],
    }


def render(session: Session, user: User, *, month: str = "", org: Any = None, lang: str = "zh",
           link: Any = _no_link) -> MonthlyReport:
    """The month's report as PDF bytes (the current month when `month` is empty)."""
    data = context(session, user, month=month, org=org, lang=lang, link=link)
    return MonthlyReport(data["month"], render_pdf("monthly_report.html", data))
