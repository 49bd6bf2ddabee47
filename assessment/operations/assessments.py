"""Writes for assessments: start, save, submit, reopen, sign, amend. Keyword-only, take the session, flush."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from accounts.models import User
from accounts.passwords import verify_password
from assessment.counts import count_approval
from assessment.models import (
    REASONS,
    Assessment,
    AssessmentSignature,
    Elder,
)
from assessment.operations.errors import AssessmentError, ConflictError, refused
from assessment.state import refresh_elder_state
from assessment.workflow import ASSESSMENT
from audit import record_event
from core.answers import answer_problems
from core.db import bump_version
from core.i18n import N_
from core.once import add_once
from core.timeutil import local_today, utcnow
from core.workflow import Context, clean_reason
from jobs.events import emit
from scoring import AnswerError, Definition, score, validate_answers

# --- assessments --------------------------------------------------------------------------


def parse_reason(value: str) -> str:
    """Accept a reason code (initial/routine/immediate/review) or its Chinese label."""
    if value in REASONS:
        return value
    for code, label in REASONS.items():
        if value == label:
            return code
    raise AssessmentError(N_("评估原因应为 首次评估 / 常规评估 / 即时评估 / 复评。"), errors=[
        {"item": "reason", "message": "可选：" + "、".join(f"{c}（{label}）" for c, label in REASONS.items())}])


def answers_digest(assessment: Assessment) -> str:
    """SHA-256 over the instrument and the answers: what a signature is bound to."""
    payload = {"instrument": assessment.instrument_id, "version": assessment.instrument_version,
               "answers": assessment.answers}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def start_assessment(*, session: Session, actor: User, elder: Elder, definition: Definition,
                     reason: str, place: str = "") -> Assessment:
    """Open a draft assessment of an elder with an instrument, for a reason (or the one already
    open: see open_assessment)."""
    return open_assessment(session=session, actor=actor, elder=elder, definition=definition,
                           reason=reason, place=place)[0]


def open_assessment_of(session: Session, elder: Elder, definition: Definition) -> Assessment | None:
    """The elder's assessment with this instrument that is not approved yet (amendments aside)."""
    return session.exec(select(Assessment).where(
        Assessment.elder_id == elder.id, Assessment.instrument_id == definition.id,
        Assessment.status != "approved", Assessment.amends_id == None)).first()  # noqa: E711


def open_assessment(*, session: Session, actor: User, elder: Elder, definition: Definition,
                    reason: str, place: str = "") -> tuple[Assessment, bool]:
    """(assessment, newly created). One open assessment per elder and instrument, decided by the
    database: a double tap on "开始评估" or "立即复评", even two at once, gets the same draft."""
    if definition.kind != "assessment":
        raise AssessmentError(_l("%(id)s 不是评估工具。", id=definition.id), errors=[
            {"item": "instrument", "message": N_("请选择一个评估工具（不是机构评定方案）")}])
    assessment = Assessment(
        organisation_id=elder.organisation_id, elder_id=elder.id or 0,
        instrument_id=definition.id, instrument_version=definition.version,
        reason=parse_reason(reason), place=place.strip()[:200], created_by_id=actor.id,
        current_section=definition.sections[0].id if definition.sections else None,
    )
    existing = open_assessment_of(session, elder, definition)
    if existing is not None:
        return existing, False
    if not add_once(session, assessment):  # a concurrent start won
        existing = open_assessment_of(session, elder, definition)
        if existing is None:
            raise AssessmentError(N_("该老人的评估刚被其他人开始，请刷新后再试。"), status=409, code="conflict")
        return existing, False
    record_event(session=session, action="assessment.start", target=assessment, actor=actor,
                 changes={"elder_id": elder.id, "instrument": definition.id, "reason": assessment.reason})
    refresh_elder_state(session, assessment.elder_id)
    return assessment, True


def _clean_answers(definition: Definition, answers: Any) -> dict[str, Any]:
    if not isinstance(answers, dict):
        raise AssessmentError(N_("answers 应为对象。"), errors=[{"item": None, "message": "answers 应为对象"}])
    errors = answer_problems(definition.items, answers)
    if errors:
        raise AssessmentError(N_("答案有误"), errors=errors)
    return answers


def save_answers(*, session: Session, actor: User, assessment: Assessment, definition: Definition,
                 answers: dict[str, Any], version: int | None, section: str | None = None
                 ) -> list[dict[str, Any]]:
    """Merge (partial) answers into a draft; None clears an answer. Returns the problems found
    so far (missing answers are not problems yet), which the form shows next to each item."""
    ASSESSMENT.require(assessment, actor, "save", error=refused)
    cleaned = _clean_answers(definition, answers)
    bump_version(session, assessment, version, ConflictError)
    merged = dict(assessment.answers or {})
    for key, value in cleaned.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    assessment.answers = merged
    if section and any(s.id == section for s in definition.sections):
        assessment.current_section = section
    session.add(assessment)
    session.flush()
    return validate_answers(definition, merged, partial=True)


def submit_assessment(*, session: Session, actor: User, assessment: Assessment,
                      definition: Definition, version: int | None = None) -> Assessment:
    """Validate and score a draft. Submitting an already submitted record returns it unchanged,
    so a double tap or a retried request makes one submission."""
    if assessment.status != "draft":
        return assessment
    ASSESSMENT.require(assessment, actor, "submit", error=refused)
    try:
        result = score(definition, assessment.answers)
    except AnswerError as error:
        raise AssessmentError(N_("答案未通过检查，请按提示修改。"), code="invalid_answers",
                              errors=[{"item": e["item"], "message": e["message"],
                                       "message_en": e.get("message_en", "")} for e in error.errors]) from None
    bump_version(session, assessment, version, ConflictError)
    now = utcnow()
    assessment.result = result.to_dict()
    assessment.status = "submitted"
    assessment.submitted_at = now
    assessment.submitted_by_id = actor.id
    assessment.answers_hash = answers_digest(assessment)
    session.add(assessment)
    session.flush()
    level = assessment.result.get("level") or {}
    record_event(session=session, action="assessment.submit", target=assessment, actor=actor,
                 changes={"level": level.get("code"), "total": assessment.result.get("total")})
    refresh_elder_state(session, assessment.elder_id)
    return assessment


def reopen_assessment(*, session: Session, actor: User, assessment: Assessment) -> Assessment:
    """Send a submitted (not yet approved) assessment back to draft; its signatures lapse."""
    ASSESSMENT.require(assessment, actor, "reopen", error=refused)
    bump_version(session, assessment, None, ConflictError)
    for signature in signatures_of(session, assessment):
        session.delete(signature)
    assessment.status = "draft"
    assessment.result = None
    assessment.answers_hash = None
    assessment.submitted_at = None
    session.add(assessment)
    session.flush()
    record_event(session=session, action="assessment.reopen", target=assessment, actor=actor)
    refresh_elder_state(session, assessment.elder_id)
    return assessment


def signatures_of(session: Session, assessment: Assessment) -> list[AssessmentSignature]:
    stmt = select(AssessmentSignature).where(AssessmentSignature.assessment_id == assessment.id)
    return list(session.exec(stmt.order_by(AssessmentSignature.signed_at, AssessmentSignature.id)))  # type: ignore[arg-type]


def sign_assessment(*, session: Session, actor: User, assessment: Assessment, password: str,
                    required_signatures: int, separation_of_duties: bool = True,
                    qualification_required: bool = False, today: date | None = None) -> AssessmentSignature:
    """Sign as an assessor (until the required number have signed) or, after that, approve as
    the reviewer, which locks the record. The password is asked again; the signature keeps the
    hash of the answers it covers."""
    if not verify_password(actor.password_hash, password or ""):
        record_event(session=session, action="assessment.sign_failed", target=assessment, actor=actor)
        raise AssessmentError(N_("密码不正确，未签名。"), status=403, code="bad_password",
                              errors=[{"item": "password", "message": N_("密码不正确")}])
    existing = signatures_of(session, assessment)
    digest = answers_digest(assessment)
    if assessment.answers_hash and digest != assessment.answers_hash:
        raise AssessmentError(N_("答案与提交时不一致，不能签名。"), status=409, code="hash_mismatch")
    assessors = [s for s in existing if s.role == "assessor"]
    context = Context(session, {"signatures": existing, "required_signatures": required_signatures,
                                "separation_of_duties": separation_of_duties})
    step = signing_step(assessment, len(assessors), required_signatures)
    after = ASSESSMENT.require(assessment, actor, step, error=refused, context=context)
    role = "reviewer" if step == "approve" else "assessor"
    if role == "assessor":
        _check_qualification(session, actor, required=qualification_required, today=today or local_today())
    bump_version(session, assessment, None, ConflictError)
    signature = AssessmentSignature(assessment_id=assessment.id or 0, user_id=actor.id or 0,
                                    role=role, answers_hash=digest, signed_at=utcnow())
    session.add(signature)
    assessment.status = after
    previous = None
    if role == "reviewer":
        assessment.reviewer_id = actor.id
        assessment.approved_at = signature.signed_at
        if assessment.amends_id:
            previous = session.get(Assessment, assessment.amends_id)
            if previous is not None:
                previous.superseded_by_id = assessment.id
                session.add(previous)
    session.add(assessment)
    session.flush()
    if role == "reviewer":
        count_approval(session, assessment, previous)
    record_event(session=session, action="assessment.approve" if role == "reviewer" else "assessment.sign",
                 target=assessment, actor=actor, changes={"answers_hash": digest, "role": role})
    emit(session, "assessment.locked", assessment, when=role == "reviewer")
    refresh_elder_state(session, assessment.elder_id)
    return signature


def _check_qualification(session: Session, actor: User, *, required: bool, today: date) -> None:
    """An assessor whose newest qualification certificate expired (or, when required, who has
    none) does not sign; the message says why and what to do."""
    from accounts.qualifications import signing_refusal

    refusal = signing_refusal(session, actor, today=today, required=required)
    if refusal is not None:
        code, message = refusal
        raise AssessmentError(message, status=403, code=code, errors=[{"item": None, "message": message}])


def signing_step(assessment: Assessment, assessor_count: int, required_signatures: int) -> str:
    """Which step of the workflow a signature is: an assessor's, the last assessor's, or the
    reviewer's approval."""
    if assessment.status == "signed" and assessor_count >= required_signatures:
        return "approve"
    return "sign_last" if assessor_count + 1 >= required_signatures else "sign"


def amend_assessment(*, session: Session, actor: User, assessment: Assessment, reason: str) -> Assessment:
    """Open a new version of a locked assessment; the old one stays as it was, viewable."""
    reason = clean_reason(reason)  # blank or only zero-width characters is no reason
    if not reason:
        raise AssessmentError(N_("更正必须填写原因。"), errors=[{"item": "reason", "message": N_("请填写更正原因")}])
    ASSESSMENT.require(assessment, actor, "amend", error=refused, context=Context(session))
    amendment = Assessment(
        organisation_id=assessment.organisation_id, elder_id=assessment.elder_id,
        instrument_id=assessment.instrument_id, instrument_version=assessment.instrument_version,
        reason=assessment.reason, place=assessment.place, answers=dict(assessment.answers),
        current_section=assessment.current_section, revision=assessment.revision + 1,
        amends_id=assessment.id, amendment_reason=reason[:1000], created_by_id=actor.id,
    )
    if not add_once(session, amendment):  # one amendment per version: a concurrent one won
        raise AssessmentError(N_("该评估已有一份进行中的更正。"), status=409, code="amendment_pending")
    record_event(session=session, action="assessment.amend", target=amendment, actor=actor,
                 changes={"amends": assessment.id}, reason=reason[:1000])
    emit(session, "assessment.amended", amendment)
    refresh_elder_state(session, amendment.elder_id)
    return amendment


def answer_differences(definition: Definition, before: dict[str, Any], after: dict[str, Any]
                       ) -> list[dict[str, Any]]:
    """Items whose answer differs between two versions, in definition order."""
    out = []
    for item_id, item in definition.items.items():
        old, new = before.get(item_id), after.get(item_id)
        if old != new:
            out.append({"item": item_id, "title": item.title.zh, "before": old, "after": new})
    return out



def return_assessment(*, session: Session, actor: User, assessment: Assessment, reason: str,
                      separation_of_duties: bool = True) -> Assessment:
    """The reviewer sends a submitted or signed assessment back to the assessors with a reason
    (退回并说明原因): it becomes a draft again, its signatures lapse, the reason stays in its
    history (the audit log) and is shown on the record."""
    text = clean_reason(reason)
    if not text:
        raise AssessmentError(N_("退回必须说明原因。"), errors=[{"item": "reason", "message": N_("请填写退回原因")}])
    ASSESSMENT.require(assessment, actor, "return", error=refused, context=Context(
        session, {"separation_of_duties": separation_of_duties}))
    before = assessment.status
    bump_version(session, assessment, None, ConflictError)
    for signature in signatures_of(session, assessment):
        session.delete(signature)
    assessment.status = ASSESSMENT.transitions[(before, "return")]
    assessment.result = None
    assessment.answers_hash = None
    assessment.submitted_at = None
    session.add(assessment)
    session.flush()
    record_event(session=session, action="assessment.return", target=assessment, actor=actor,
                 changes={"old": {"status": before}, "new": {"status": assessment.status}}, reason=text)
    refresh_elder_state(session, assessment.elder_id)
    return assessment
