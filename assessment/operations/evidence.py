"""Evidence of a visit kept with an assessment: photos of its items (through core.photos, the one
upload path shared with inspections) and the visit record (times, seconds per section, location).
Keyword-only, take the session, flush, audited."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, select

from accounts.models import User
from assessment.models import Assessment, AssessmentPhoto, AssessmentVisit
from assessment.operations.errors import AssessmentError, refused
from assessment.workflow import ASSESSMENT
from audit import record_event
from core.i18n import N_
from core.once import add_once
from core.photos import store_photo
from core.storage import delete_after_commit
from core.timeutil import aware, utcnow
from scoring import Definition

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
PHOTOS_PER_ITEM = 12  # enough for a room, a wound, a device; a bound on what one item can hold


def hold_draft(session: Session, assessment: Assessment) -> None:
    """Keep the assessment a draft until this transaction ends: one conditional UPDATE that
    touches only `updated_at` (not the version, so the open form's autosave is not disturbed).
    A submission that committed first makes it match no row (PostgreSQL re-checks the WHERE after
    the submitter's row lock; SQLite serialises writers), and the caller is refused."""
    result = session.execute(
        update(Assessment).where(Assessment.id == assessment.id, Assessment.status == "draft")  # type: ignore[arg-type]
        .values(updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AssessmentError(N_("评估已提交，不能再修改照片。"), status=409, code="not_draft",
                              errors=[{"item": "photo", "message": N_("评估已提交，不能再修改照片。")}])


def photos_of(session: Session, assessment: Assessment) -> list[AssessmentPhoto]:
    """The assessment's photos in the order they were taken (bounded: PHOTOS_PER_ITEM per item)."""
    stmt = select(AssessmentPhoto).where(AssessmentPhoto.assessment_id == assessment.id)
    return list(session.exec(stmt.order_by(AssessmentPhoto.id)))  # type: ignore[arg-type]


def photos_by_item(session: Session, assessment: Assessment) -> dict[str, list[AssessmentPhoto]]:
    out: dict[str, list[AssessmentPhoto]] = {}
    for photo in photos_of(session, assessment):
        out.setdefault(photo.item_id, []).append(photo)
    return out


def add_photo(*, session: Session, actor: User, storage: Any, assessment: Assessment,
              definition: Definition, item_id: str, data: bytes, content_type: str) -> AssessmentPhoto:
    """Attach a photo to an item of a draft assessment: checked, cleaned, stored, audited."""
    ASSESSMENT.require(assessment, actor, "save", error=refused)
    if item_id not in definition.items:
        raise AssessmentError(N_("没有这个评估项目"), errors=[{"item": "item", "message": N_("没有这个评估项目")}])
    count = len([p for p in photos_of(session, assessment) if p.item_id == item_id])
    if count >= PHOTOS_PER_ITEM:
        raise AssessmentError(N_("这个项目的照片已达上限（12 张），请先删除不需要的照片。"), status=409,
                              code="too_many_photos", errors=[{"item": "photo", "message": N_(
                                  "这个项目的照片已达上限（12 张），请先删除不需要的照片。")}])
    hold_draft(session, assessment)
    stored = store_photo(storage=storage, folder=f"assessment_photos/{assessment.organisation_id}",
                         data=data, content_type=content_type)
    photo = AssessmentPhoto(organisation_id=assessment.organisation_id, assessment_id=assessment.id or 0,
                            item_id=item_id, stored_name=stored.name, content_type=stored.content_type,
                            size=stored.size, uploaded_by_id=actor.id)
    session.add(photo)
    session.flush()
    record_event(session=session, action="assessment.photo.add", target=assessment, actor=actor,
                 changes={"new": {"photo_id": photo.id, "item": item_id, "size": stored.size}})
    return photo


def delete_photo(*, session: Session, actor: User, storage: Any, assessment: Assessment,
                 photo: AssessmentPhoto) -> None:
    """Remove a photo from a draft assessment (the file too), audited."""
    ASSESSMENT.require(assessment, actor, "save", error=refused)
    if photo.assessment_id != assessment.id:
        raise AssessmentError(N_("照片不属于这份评估"), status=404, code="not_found")
    hold_draft(session, assessment)
    record_event(session=session, action="assessment.photo.delete", target=assessment, actor=actor,
                 changes={"old": {"photo_id": photo.id, "item": photo.item_id, "size": photo.size}})
    key = photo.storage_key
    session.delete(photo)
    session.flush()
    delete_after_commit(session, storage, key)  # the file goes when the row's removal commits


# --- the visit record ---------------------------------------------------------------------

LOCATION_CODES = ("granted", "denied", "unavailable", "unsupported", "")
MAX_SECTION_SECONDS = 24 * 3600


@dataclass
class VisitInput:
    """One device's totals for one visit, as static/js/visit.js sends them (already parsed)."""

    client_id: str
    started_at: datetime
    ended_at: datetime
    section_seconds: dict[str, float] = field(default_factory=dict)
    location_status: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    located_at: datetime | None = None
    end: VisitPlace | None = None  # where the device was at the end (the last page it opened)


@dataclass
class VisitPlace:
    """A position the device reported, or why it has none (denied, unavailable, unsupported)."""

    status: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    located_at: datetime | None = None


VISIT_FIELDS = {"client_id", "started_at", "ended_at", "sections", "location", "end_location"}
LOCATION_FIELDS = {"status", "latitude", "longitude", "accuracy", "at"}


def _moment(value: Any, item: str, problems: list[dict[str, Any]]) -> datetime | None:
    """An ISO 8601 date-time with its offset (a device's clock says where it is), as aware UTC."""
    moment = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        problems.append({"item": item, "message": N_("时间应为带时区的 ISO 8601 格式")})
        return None
    return moment.astimezone(UTC)


def parse_visit(data: Any) -> VisitInput:
    """A device's visit report (JSON, as static/js/visit.js sends it) as a VisitInput, or a 422
    listing every problem of its shape at once (visit_problems checks the values)."""
    if not isinstance(data, dict):
        raise AssessmentError(N_("访视记录有误"), errors=[{"item": None, "message": N_("请求体必须是 JSON 对象。")}])
    problems: list[dict[str, Any]] = [{"item": key, "message": _l("不接受的字段 %(field)s", field=key)}
                                      for key in sorted(set(data) - VISIT_FIELDS)]
    problems += [{"item": key, "message": _l("缺少必填字段 %(field)s", field=key)}
                 for key in ("client_id", "started_at", "ended_at") if key not in data]
    started = _moment(data.get("started_at"), "started_at", problems) if "started_at" in data else None
    ended = _moment(data.get("ended_at"), "ended_at", problems) if "ended_at" in data else None
    sections = data.get("sections") or {}
    if not isinstance(sections, dict):
        problems.append({"item": "sections", "message": N_("sections 应为对象")})
        sections = {}
    start = _place(data.get("location"), "location", problems)
    end = _place(data.get("end_location"), "end_location", problems) if data.get("end_location") else None
    if problems or started is None or ended is None:
        raise AssessmentError(N_("访视记录有误"), errors=problems)
    client_id = data.get("client_id")
    return VisitInput(client_id=client_id if isinstance(client_id, str) else "", started_at=started,
                      ended_at=ended, section_seconds=dict(sections), location_status=start.status,
                      latitude=start.latitude, longitude=start.longitude, accuracy_m=start.accuracy_m,
                      located_at=start.located_at, end=end)


def _place(value: Any, item: str, problems: list[dict[str, Any]]) -> VisitPlace:
    """A reported position (`location` at the start, `end_location` at the end) as a VisitPlace."""
    place = value or {}
    if not isinstance(place, dict) or set(place) - LOCATION_FIELDS:
        problems.append({"item": item, "message": _l("%(field)s 应为对象：status、latitude、longitude、accuracy、at",
                                                     field=item)})
        place = {}
    located_at = _moment(place["at"], item, problems) if place.get("at") is not None else None
    status = place.get("status") or ""
    return VisitPlace(status=status if isinstance(status, str) else "?", latitude=place.get("latitude"),
                      longitude=place.get("longitude"), accuracy_m=place.get("accuracy"), located_at=located_at)


def visit_problems(definition: Definition, visit: VisitInput) -> list[dict[str, Any]]:
    """Every problem with a visit record at once ({item, message})."""
    problems: list[dict[str, Any]] = []
    if not CLIENT_ID.match(visit.client_id or ""):
        problems.append({"item": "client_id", "message": N_("client_id 应为 1-64 个字母、数字或 _.:-")})
    if visit.ended_at < visit.started_at:
        problems.append({"item": "ended_at", "message": N_("结束时间不能早于开始时间")})
    sections = {s.id for s in definition.sections}
    for key, seconds in visit.section_seconds.items():
        if key not in sections:
            problems.append({"item": "sections", "message": _l("没有这个分项：%(id)s", id=str(key)[:64])})
        elif not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_SECTION_SECONDS:
            problems.append({"item": "sections", "message": _l("分项 %(id)s 的用时应为 0-86400 秒", id=key)})
    start = VisitPlace(visit.location_status, visit.latitude, visit.longitude, visit.accuracy_m, visit.located_at)
    for item, place in (("location", start), ("end_location", visit.end)):
        if place is None:
            continue
        if place.status not in LOCATION_CODES:
            problems.append({"item": item, "message": N_("位置状态应为 granted、denied、unavailable 或 unsupported")})
        elif place.status == "granted":
            lat, lon, acc = place.latitude, place.longitude, place.accuracy_m
            if not (_finite(lat) and -90 <= lat <= 90 and _finite(lon) and -180 <= lon <= 180):  # type: ignore[operator]
                problems.append({"item": item, "message": N_("位置的经纬度无效")})
            if acc is not None and not (_finite(acc) and 0 <= acc <= 1_000_000):  # type: ignore[operator]
                problems.append({"item": item, "message": N_("位置精度应为 0 以上的米数")})
    return problems


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def visits_of(session: Session, assessment: Assessment) -> list[AssessmentVisit]:
    """The assessment's visit records, oldest first (one per device and visit: a handful)."""
    stmt = select(AssessmentVisit).where(AssessmentVisit.assessment_id == assessment.id)
    return list(session.exec(stmt.order_by(AssessmentVisit.started_at, AssessmentVisit.id)))  # type: ignore[arg-type]


def _find_visit(session: Session, assessment: Assessment, client_id: str) -> AssessmentVisit | None:
    return session.exec(select(AssessmentVisit).where(AssessmentVisit.assessment_id == assessment.id,
                                                      AssessmentVisit.client_id == client_id)).first()


def record_visit(*, session: Session, actor: User, assessment: Assessment, definition: Definition,
                 visit: VisitInput) -> AssessmentVisit:
    """Keep a device's visit totals for a draft: the first report creates the record (audited,
    with the location's status), later ones widen its times and raise its section totals. The
    totals only grow, so a resent or late report changes nothing that a newer one said."""
    ASSESSMENT.require(assessment, actor, "save", error=refused)
    problems = visit_problems(definition, visit)
    if problems:
        raise AssessmentError(N_("访视记录有误"), errors=problems)
    hold_draft(session, assessment)
    record = _find_visit(session, assessment, visit.client_id)
    created = record is None
    if record is None:
        record = AssessmentVisit(organisation_id=assessment.organisation_id, assessment_id=assessment.id or 0,
                                 client_id=visit.client_id, user_id=actor.id, started_at=visit.started_at,
                                 ended_at=visit.ended_at, section_seconds={})
        _merge_visit(record, visit)
        if not add_once(session, record):  # the same report arrived twice at once: the other one made it
            record = _find_visit(session, assessment, visit.client_id)
            assert record is not None
            created = False
    if not created:
        _merge_visit(record, visit)
        session.add(record)
        session.flush()
    else:
        record_event(session=session, action="assessment.visit.start", target=assessment, actor=actor,
                     changes={"new": {"visit": record.id, "location": record.location_status or "none",
                                      "accuracy_m": record.accuracy_m}})
    return record


def _merge_visit(record: AssessmentVisit, visit: VisitInput) -> None:
    record.started_at = min(aware(record.started_at), visit.started_at)
    record.ended_at = max(aware(record.ended_at), visit.ended_at)
    totals = dict(record.section_seconds or {})
    for key, seconds in visit.section_seconds.items():
        totals[key] = round(max(float(totals.get(key, 0)), float(seconds)), 1)
    record.section_seconds = totals
    if record.location_status != "granted" and visit.location_status:
        # A position, once recorded, stays; a refusal is kept until a position comes.
        record.location_status = visit.location_status
        if visit.location_status == "granted":
            record.latitude, record.longitude = visit.latitude, visit.longitude
            record.accuracy_m = visit.accuracy_m
            record.located_at = visit.located_at or visit.ended_at
    end = visit.end
    if end is not None and end.status:
        # The end is the latest position reported (a report of an earlier moment changes nothing);
        # a refusal is kept until a position comes.
        at = end.located_at or visit.ended_at
        if end.status == "granted" and (record.end_location_status != "granted" or record.end_located_at is None
                                        or at >= aware(record.end_located_at)):
            record.end_location_status = "granted"
            record.end_latitude, record.end_longitude, record.end_accuracy_m = end.latitude, end.longitude, end.accuracy_m
            record.end_located_at = at
        elif end.status != "granted" and record.end_location_status != "granted":
            record.end_location_status = end.status
    record.received_at = utcnow()
