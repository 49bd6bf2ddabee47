"""Inspections: start, autosave with optimistic locking, photos, submit (score, propose a grade,
turn findings into corrective actions), approve (award the grade), re-inspect."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from audit import record_event
from core.answers import answer_problems
from core.db import bump_version
from core.errors import EditConflict
from core.i18n import N_
from core.once import claim_status
from core.photos import PhotoRefused, store_photo
from core.reasons import OLDER_INSPECTION, REINSPECTION_FAILED, REINSPECTION_PASSED, system_reason
from core.timeutil import utcnow
from core.workflow import Context, clean_reason
from jobs.events import emit
from rating.models import (
    CorrectiveAction,
    EvidencePhoto,
    Facility,
    Grade,
    Inspection,
    InspectionPlan,
)
from rating.operations.facilities import (
    RatingError,
    disqualify_facility,
    known_facts,
    merge_facts,
    refused,
)
from rating.schemes import facility_kinds_for, get_scheme
from rating.state import refresh_facility_state
from rating.workflow import INSPECTION
from scoring import AnswerError, Definition, score, validate_answers

NOTE_MAX = 1000


class VersionConflict(RatingError, EditConflict):
    """Someone saved the inspection since this copy was loaded (core.db.bump_version)."""

    def __init__(self, current: int) -> None:
        RatingError.__init__(self, [{"item": "version", "message": _l(
            "检查记录已被他人修改（当前版本 %(version)s），请刷新后再试", version=current)}], status=409)
        self.current = self.current_version = current
        self.answers: dict[str, Any] | None = None


def start_inspection(*, session: Session, actor: Any, facility: Facility, scheme: str,
                     plan: InspectionPlan | None = None, inspector_ids: list[int] | None = None,
                     previous: Inspection | None = None) -> Inspection:
    """Open an inspection of a facility under a scheme, pinned to the scheme's version."""
    try:
        definition = get_scheme(scheme, session=session)
    except LookupError as exc:
        raise RatingError([{"item": "scheme", "message": str(exc)}]) from None
    if facility.kind not in facility_kinds_for(definition):
        raise RatingError([{"item": "scheme", "message": _l("方案 %(scheme)s 不适用于该类型的机构", scheme=scheme)}])
    if facility.is_disqualified:
        raise RatingError([{"item": "facility_id", "message": N_("该机构已被取消服务提供资格，不能再检查评定")}])
    inspectors = inspector_ids or ([actor.id] if getattr(actor, "id", None) else [])
    inspection = Inspection(
        organisation_id=facility.organisation_id, facility_id=facility.id, scheme=definition.id,
        scheme_version=definition.version, plan_id=plan.id if plan else None,
        previous_inspection_id=previous.id if previous else None, is_reinspection=previous is not None,
        inspector_ids=inspectors, created_by_id=getattr(actor, "id", None), status="in_progress",
        auto_facts=known_facts(session=session, facility=facility, definition=definition, on=utcnow().date()),
    )
    session.add(inspection)
    session.flush()
    record_event(session=session, action="rating.inspection.start", target=inspection, actor=actor,
                 changes={"new": {"facility_id": facility.id, "scheme": definition.id,
                                  "version": definition.version, "reinspection_of": inspection.previous_inspection_id}})
    refresh_facility_state(session, inspection.facility_id)
    return inspection


def definition_of(inspection: Inspection) -> Definition:
    """The scheme (id, version) the inspection was captured with."""
    try:
        from sqlalchemy.orm import object_session

        return get_scheme(inspection.scheme, inspection.scheme_version, session=object_session(inspection))
    except LookupError as exc:
        raise RatingError(str(exc)) from None


def _clean_answers(answers: Any) -> dict[str, Any]:
    if not isinstance(answers, dict):
        raise RatingError([{"item": "answers", "message": N_("answers 应为对象")}])
    return {str(k): v for k, v in answers.items() if v is not None and v != ""}


def save_answers(*, session: Session, actor: Any, inspection: Inspection, answers: Any,
                 facts: Any = None, notes: Any = None, version: Any) -> list[dict[str, Any]]:
    """Autosave the checklist: the whole answer set replaces the stored one when `version`
    matches (else VersionConflict); returns the problems found so far (kept, not refused)."""
    INSPECTION.require(inspection, actor, "save", error=refused)
    if isinstance(version, bool) or not isinstance(version, int):
        raise RatingError([{"item": "version", "message": N_("缺少版本号 version（整数）")}])
    bump_version(session, inspection, version, VersionConflict)
    clean = _clean_answers(answers)
    scheme = definition_of(inspection)
    # Keys are item ids, or section ids where a section's score is entered directly.
    unknown = answer_problems({*scheme.items, *(section.id for section in scheme.sections)}, clean)
    if unknown:
        raise RatingError(unknown)
    if facts is not None and not isinstance(facts, dict):
        raise RatingError([{"item": "facts", "message": N_("facts 应为对象")}])
    if notes is not None and not isinstance(notes, dict):
        raise RatingError([{"item": "notes", "message": N_("notes 应为对象")}])
    definition = definition_of(inspection)
    new_facts = dict(facts) if facts is not None else dict(inspection.facts)
    problems = validate_answers(definition, clean, merge_facts(inspection.auto_facts, new_facts), partial=True)
    inspection.answers = clean
    inspection.facts = new_facts
    if notes is not None:
        inspection.notes = {str(k): str(v)[:NOTE_MAX] for k, v in notes.items() if v}
    inspection.status = "in_progress"
    inspection.updated_at = utcnow()
    session.add(inspection)
    session.flush()  # a draft's autosave is not audited (docs/architecture.md, "What is audited")
    return problems


def save_photo(*, session: Session, actor: Any, storage: Any, organisation_id: int, data: bytes,
               content_type: str, inspection: Inspection | None = None,
               action: CorrectiveAction | None = None, item_id: str = "") -> EvidencePhoto:
    """Store an evidence photo through the one upload path (core.photos) and audit it."""
    if inspection is not None and inspection.status not in ("planned", "in_progress"):
        raise RatingError([{"item": "photo", "message": N_("检查已提交，不能再添加照片")}], status=409)
    if inspection is not None and item_id and item_id not in definition_of(inspection).items:
        raise RatingError([{"item": "item", "message": N_("没有这个检查项")}])
    try:
        stored = store_photo(storage=storage, folder=f"rating_photos/{organisation_id}", data=data,
                             content_type=content_type)
    except PhotoRefused as refusal:
        raise RatingError(refusal.errors, status=refusal.status) from None
    photo = EvidencePhoto(organisation_id=organisation_id, inspection_id=inspection.id if inspection else None,
                          action_id=action.id if action else None, item_id=item_id[:64], stored_name=stored.name,
                          content_type=stored.content_type, size=stored.size,
                          uploaded_by_id=getattr(actor, "id", None))
    session.add(photo)
    session.flush()
    record_event(session=session, action="rating.photo.add", target=photo, actor=actor,
                 changes={"new": {"item": item_id, "inspection_id": photo.inspection_id,
                                  "action_id": photo.action_id, "size": stored.size}})
    return photo


def _add_days(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


def submit_inspection(*, session: Session, actor: Any, inspection: Inspection,
                      now: datetime | None = None) -> Inspection:
    """Score the checklist, propose the grade and turn findings into corrective actions with
    deadlines by severity; unqualified results get a rectification deadline. Submitting twice
    changes nothing."""
    if inspection.status in ("submitted", "approved"):
        return inspection
    submitted = INSPECTION.require(inspection, actor, "submit", error=refused)
    now = now or utcnow()
    definition = definition_of(inspection)
    facility = session.get(Facility, inspection.facility_id)
    assert facility is not None
    auto = known_facts(session=session, facility=facility, definition=definition, on=now.date())
    facts = merge_facts(auto, inspection.facts)
    missing = missing_sections(definition, inspection.answers)
    try:
        result = score(definition, inspection.answers, facts).to_dict()
    except AnswerError as exc:
        raise RatingError(list(exc.errors) + missing) from None
    if missing:
        raise RatingError(missing)
    # One submission: the status moves in one conditional UPDATE, so of concurrent submits exactly
    # one creates the corrective actions; the others answer 409.
    if not claim_status(session, inspection, from_states=INSPECTION.sources("submit"), to_state=submitted):
        raise RatingError(N_("该检查刚刚已被提交，本次提交未重复生效"), status=409)
    inspection.auto_facts = auto
    inspection.result = result
    grade = result.get("grade") or {}
    inspection.proposed_grade_code = grade.get("code")
    inspection.is_unqualified = bool(result.get("unqualified"))
    inspection.submitted_at = now
    inspection.submitted_by_id = getattr(actor, "id", None)
    session.add(inspection)
    session.flush()
    for finding in result.get("findings", []):
        severity = finding.get("severity") or definition.default_severity
        days = definition.deadline_days.get(severity, definition.deadline_days["major"])
        label = finding.get("label") or finding.get("item")
        note = inspection.notes.get(finding.get("item", ""), "")
        session.add(CorrectiveAction(
            organisation_id=inspection.organisation_id, facility_id=inspection.facility_id,
            inspection_id=inspection.id, item_id=finding.get("item", ""), section=finding.get("section", ""),
            description=f"{label}（扣 {finding.get('points_lost')} 分）{('：' + note) if note else ''}"[:500],
            required_action=f"按《{definition.title.zh}》该项要求整改，并提交整改照片或材料"[:500],
            severity=severity, points_lost=finding.get("points_lost"), due_at=_add_days(now, days)))
    if inspection.is_unqualified:
        days = rectification_days(definition)
        inspection.rectification_due_at = _add_days(now, days)
        session.add(CorrectiveAction(
            organisation_id=inspection.organisation_id, facility_id=inspection.facility_id,
            inspection_id=inspection.id, is_rectification=True, severity="critical",
            description=f"综合得分 {result.get('total')} 分，低于合格线，评定为不合格",
            required_action=f"限期 {days} 天内整体整改，期满后复查；复查仍不合格的，取消服务提供资格",
            due_at=inspection.rectification_due_at))
    session.flush()
    record_event(session=session, action="rating.inspection.submit", target=inspection, actor=actor,
                 changes={"new": {"total": result.get("total"), "grade": grade.get("code"),
                                  "unqualified": inspection.is_unqualified,
                                  "findings": len(result.get("findings", []))}})
    if inspection.is_reinspection:
        _conclude_reinspection(session=session, actor=actor, inspection=inspection, facility=facility, now=now)
    refresh_facility_state(session, inspection.facility_id)
    return inspection


def missing_sections(definition: Definition, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Required sections that have no items and no entered score (the engine scores only what
    it is given, so an item-less section left blank would silently count as absent)."""
    return [{"item": s.id, "message": f"请录入“{s.title.zh}”的分项得分（满分 {s.max:g}）"}
            for s in definition.sections
            if s.required and not s.items and s.scored and s.id not in answers and s.max is not None]


def rectification_days(definition: Definition) -> int:
    """The scheme's rectification period; when it names none, the deadline for a major finding
    (policy documented in docs/rating.md)."""
    return definition.rectification_days or definition.deadline_days["major"]


def _conclude_reinspection(*, session: Session, actor: Any, inspection: Inspection,
                           facility: Facility, now: datetime) -> None:
    previous = session.get(Inspection, inspection.previous_inspection_id)
    if inspection.is_unqualified:
        disqualify_facility(session=session, actor=actor, facility=facility, now=now,
                            reason=system_reason(REINSPECTION_FAILED, inspection=inspection.id))
        return
    if previous is None:
        return
    for action in session.exec(select(CorrectiveAction).where(
            CorrectiveAction.inspection_id == previous.id, CorrectiveAction.is_rectification == True,  # noqa: E712
            CorrectiveAction.status != "closed")):
        action.status = "closed"
        action.verified_at = now
        action.verified_by_id = getattr(actor, "id", None)
        session.add(action)
        record_event(session=session, action="rating.action.close", target=action, actor=actor,
                     reason=system_reason(REINSPECTION_PASSED, inspection=inspection.id))
    session.flush()


def create_reinspection(*, session: Session, actor: Any, previous: Inspection,
                        now: datetime | None = None) -> Inspection:
    """Re-inspect an unqualified facility once its rectification deadline has passed."""
    now = now or utcnow()
    if not previous.is_unqualified or previous.rectification_due_at is None:
        raise RatingError(N_("只有不合格的检查才需要复查"))
    due = previous.rectification_due_at
    if due.tzinfo is None:
        from datetime import UTC

        due = due.replace(tzinfo=UTC)
    if now < due:
        raise RatingError(_l("整改期限（%(due)s）未到，期满后才能复查", due=due.date().isoformat()))
    existing = session.exec(select(Inspection).where(Inspection.previous_inspection_id == previous.id)).first()
    if existing is not None:
        return existing
    facility = session.get(Facility, previous.facility_id)
    assert facility is not None
    return start_inspection(session=session, actor=actor, facility=facility, scheme=previous.scheme,
                            previous=previous, inspector_ids=list(previous.inspector_ids))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def approve_inspection(*, session: Session, actor: Any, inspection: Inspection,
                       now: datetime | None = None, separation_of_duties: bool = True) -> Grade:
    """Award the proposed grade with the scheme's validity; the facility's earlier grades are
    superseded. Approving twice returns the same grade."""
    existing = session.exec(select(Grade).where(Grade.inspection_id == inspection.id)).first()
    if existing is not None:
        return existing
    approved = INSPECTION.require(inspection, actor, "approve", error=refused,
                                  context=Context(session, {"separation_of_duties": separation_of_duties}))
    # Approvals of one facility take turns (row lock), and the status moves in one conditional
    # UPDATE: of concurrent approvals exactly one awards the grade, the others answer 409.
    session.exec(select(Facility).where(Facility.id == inspection.facility_id).with_for_update()).one()
    if not claim_status(session, inspection, from_states=INSPECTION.sources("approve"), to_state=approved):
        raise RatingError(N_("该检查刚刚已被审批，本次审批未重复生效"), status=409)
    now = now or utcnow()
    definition = definition_of(inspection)
    proposed = inspection.result.get("grade") or {"code": 0, "label": "未评定"}
    years = definition.validity_years or 3
    valid_from = now.date()
    grade = Grade(
        organisation_id=inspection.organisation_id, facility_id=inspection.facility_id,
        inspection_id=inspection.id, plan_id=inspection.plan_id, scheme=definition.id,
        scheme_version=definition.version, code=int(proposed.get("code") or 0),
        label=str(proposed.get("label") or ""), stars=proposed.get("stars"), medal=proposed.get("medal"),
        awarded_at=now, valid_from=valid_from, valid_until=add_years(valid_from, years) - timedelta(days=1),
        approved_by_id=getattr(actor, "id", None))
    session.add(grade)
    session.flush()
    _supersede_in_inspection_order(session=session, actor=actor, inspection=inspection, grade=grade, now=now)
    inspection.approved_at = now
    inspection.approved_by_id = getattr(actor, "id", None)
    session.add(inspection)
    session.flush()
    record_event(session=session, action="rating.inspection.approve", target=inspection, actor=actor,
                 changes={"new": {"grade": grade.code, "label": grade.label,
                                  "valid_until": grade.valid_until.isoformat()}})
    emit(session, "inspection.approved", inspection)
    emit(session, "grade.awarded", grade, when=grade.code > 0)
    refresh_facility_state(session, inspection.facility_id)
    return grade


def inspection_order(inspection: Inspection) -> tuple[datetime, int]:
    """Which inspection is newer: the later inspection (submitted) date, then the larger id."""
    from rating.operations.actions import aware

    moment = inspection.submitted_at or inspection.created_at
    return aware(moment), inspection.id or 0


def _supersede_in_inspection_order(*, session: Session, actor: Any, inspection: Inspection, grade: Grade,
                                   now: datetime) -> None:
    """The facility's current grades from older inspections give way to the new grade; a grade
    from a newer inspection stays current and the new grade is superseded by it at once, so
    approving an older inspection late never replaces a newer result."""
    mine = inspection_order(inspection)
    current = session.exec(select(Grade).where(Grade.facility_id == inspection.facility_id,
                                               Grade.id != grade.id, Grade.superseded_by_id == None))  # noqa: E711
    newest: tuple[tuple[datetime, int], Grade] | None = None
    for other in list(current):
        source = session.get(Inspection, other.inspection_id)
        order = inspection_order(source) if source is not None else (aware_min(), 0)
        if order > mine:
            if newest is None or order > newest[0]:
                newest = (order, other)
            continue
        other.superseded_by_id = grade.id
        other.superseded_at = now
        session.add(other)
        record_event(session=session, action="rating.grade.supersede", target=other, actor=actor,
                     changes={"old": {"code": other.code}, "new": {"code": grade.code, "grade_id": grade.id}})
    if newest is not None:
        keeper = newest[1]
        grade.superseded_by_id = keeper.id
        grade.superseded_at = now
        session.add(grade)
        session.flush()
        record_event(session=session, action="rating.grade.supersede", target=grade, actor=actor,
                     changes={"old": {"code": grade.code}, "new": {"code": keeper.code, "grade_id": keeper.id}},
                     reason=system_reason(OLDER_INSPECTION))


def aware_min() -> datetime:
    from datetime import UTC

    return datetime.min.replace(tzinfo=UTC)


def return_inspection(*, session: Session, actor: Any, inspection: Inspection, reason: str,
                      now: datetime | None = None, separation_of_duties: bool = True) -> Inspection:
    """The approver sends a submitted inspection back to the inspector with a reason (退回并说明原因):
    it is editable again, the proposed result and the corrective actions it created are withdrawn
    (submitting again creates them afresh), and the reason stays in its history (the audit log)."""
    text = clean_reason(reason)
    if not text:
        raise RatingError([{"item": "reason", "message": N_("退回必须说明原因")}])
    before = inspection.status
    after = INSPECTION.require(inspection, actor, "return", error=refused,
                               context=Context(session, {"separation_of_duties": separation_of_duties}))
    bump_version(session, inspection, None, VersionConflict)
    withdrawn = list(session.exec(select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id)))
    for action in withdrawn:
        session.delete(action)
    inspection.status = after
    inspection.result = None
    inspection.proposed_grade_code = None
    inspection.is_unqualified = False
    inspection.rectification_due_at = None
    inspection.submitted_at = None
    inspection.updated_at = now or utcnow()
    session.add(inspection)
    session.flush()
    record_event(session=session, action="rating.inspection.return", target=inspection, actor=actor,
                 changes={"old": {"status": before}, "new": {"status": after},
                          "actions_withdrawn": len(withdrawn)}, reason=text)
    refresh_facility_state(session, inspection.facility_id)
    return inspection
