"""The visit record as the reviewer reads it: the devices' reports added up, and the warnings of
assessment.visit_checks worded in the reader's language. Reads only; the settings come from the
app's config (YIYANG_VISIT_*)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session

from assessment.models import LOCATION_STATUSES, Assessment, AssessmentVisit, Elder
from assessment.operations.evidence import visits_of
from assessment.visit_checks import (
    VisitPolicy,
    VisitSummary,
    VisitWarning,
    distance_m,
    parse_working_hours,
    visit_warnings,
)
from core.i18n import N_
from core.timeutil import aware
from scoring import Definition

WARNINGS = {
    "too_fast": N_("用时过短：%(items)s 个项目只用了 %(minutes)s 分钟（每项至少应约 %(seconds_per_item)s 秒）。"),
    "far_away": N_("位置偏远：记录的位置距老人住址约 %(km)s 公里（超过 %(limit_km)s 公里）。"),
    "off_hours": N_("非工作时间：访视时间 %(time)s 不在 %(from)s–%(to)s 之间。"),
}


def policy() -> VisitPolicy:
    """The plausibility settings of this installation (README: YIYANG_VISIT_*)."""
    config = current_app.config
    return VisitPolicy(min_seconds_per_item=float(config.get("VISIT_MIN_SECONDS_PER_ITEM", 5)),
                       max_distance_m=float(config.get("VISIT_MAX_DISTANCE_M", 1000)),
                       working_hours=parse_working_hours(str(config.get("VISIT_WORKING_HOURS", "07:00-20:00"))))


def summarise(visits: list[AssessmentVisit], items_answered: int) -> VisitSummary:
    """All devices' reports of one assessment as one visit: earliest start, latest end, the
    seconds added up, and the most precise position recorded (or the last refusal)."""
    located = [v for v in visits if v.location_status == "granted" and v.latitude is not None]
    best = min(located, key=lambda v: v.accuracy_m if v.accuracy_m is not None else float("inf"), default=None)
    status = "granted" if best else next((v.location_status for v in reversed(visits) if v.location_status), "")
    ended = [v for v in visits if v.end_location_status == "granted" and v.end_latitude is not None]
    last = max(ended, key=lambda v: aware(v.end_located_at or v.ended_at), default=None)
    end_status = "granted" if last else next((v.end_location_status for v in reversed(visits)
                                             if v.end_location_status), "")
    return VisitSummary(
        started_at=min((aware(v.started_at) for v in visits), default=None),
        ended_at=max((aware(v.ended_at) for v in visits), default=None),
        active_seconds=sum(float(s) for v in visits for s in (v.section_seconds or {}).values()),
        items_answered=items_answered,
        location=(best.latitude, best.longitude, best.accuracy_m) if best and best.longitude is not None else None,  # type: ignore[arg-type]
        location_status=status,
        end_location=(last.end_latitude, last.end_longitude, last.end_accuracy_m)  # type: ignore[arg-type]
        if last and last.end_longitude is not None else None,
        end_location_status=end_status)


def warning_text(warning: VisitWarning) -> str:
    return _(WARNINGS[warning.code]) % warning.values


def visit_report(session: Session, assessment: Assessment, definition: Definition) -> dict[str, Any] | None:
    """What the record page shows about the visit, or None when no device reported one."""
    visits = visits_of(session, assessment)
    if not visits:
        return None
    elder = session.get(Elder, assessment.elder_id)
    home = (elder.latitude, elder.longitude) if elder and elder.latitude is not None and elder.longitude is not None else None
    relevant = definition.relevant_items(assessment.answers)
    answered = sum(1 for key in assessment.answers if key in relevant)
    summary = summarise(visits, answered)
    warnings = visit_warnings(summary, policy=policy(), elder_location=home,
                              tz=ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai")))
    seconds: dict[str, float] = {}
    for visit in visits:
        for key, value in (visit.section_seconds or {}).items():
            seconds[key] = seconds.get(key, 0.0) + float(value)
    return {
        "summary": summary,
        "minutes": round(summary.active_seconds / 60, 1),
        "sections": [{"title": s.title, "minutes": round(seconds.get(s.id, 0.0) / 60, 1)}
                     for s in definition.sections if s.id in seconds],
        "location_label": _(LOCATION_STATUSES.get(summary.location_status, summary.location_status)),
        "end_location_label": _(LOCATION_STATUSES.get(summary.end_location_status, summary.end_location_status)),
        "distance_km": (round(distance_m(summary.location[:2], home) / 1000, 2)
                        if summary.location is not None and home is not None else None),
        "home_known": home is not None,
        "devices": len(visits),
        "warnings": [warning_text(w) for w in warnings],
    }
