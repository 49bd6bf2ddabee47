"""Writes for elders and assessments. Keyword-only, typed, take the session, flush, never commit.

The request handler (view, API, CLI) commits once. Every mutation is audit-logged; sensitive
values never reach the log (audit masks them, and we pass only masked forms).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from accounts.models import Organisation, User
from accounts.passwords import verify_password
from assessment.idnumber import id_number_problems, normalise_id_number
from assessment.models import (
    GENDERS,
    LEGAL_BASES,
    REASONS,
    Assessment,
    AssessmentSignature,
    Elder,
    Entitlement,
)
from audit import record_event
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.db import bump_version
from core.timeutil import utcnow
from scoring import AnswerError, Definition, score, validate_answers

MAX_ANSWER_TEXT = 4000


class AssessmentError(Exception):
    """A refused action: `status` for the HTTP answer, `message` in Chinese, `errors` per item."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid",
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.code, self.errors = message, status, code, errors or []


class ConflictError(AssessmentError):
    """The record changed since the caller read it (optimistic locking)."""

    def __init__(self, current_version: int) -> None:
        super().__init__("这份评估刚被其他人修改过（版本已更新），您的修改没有覆盖对方的内容。"
                         "您的答案已保留在本设备上，请核对后再保存。",
                         status=409, code="conflict")
        self.current_version = current_version


class DuplicateElderError(AssessmentError):
    """The person is already registered (same ID number in a visible organisation)."""

    def __init__(self, existing: Elder) -> None:
        super().__init__(f"该身份证号已登记：{existing.name}（编号 {existing.id}），请勿重复登记。",
                         status=409, code="duplicate", errors=[{"item": "id_number",
                                                                 "message": "该身份证号已登记"}])
        self.existing = existing


# --- elders ---------------------------------------------------------------------------------


@dataclass
class ElderInput:
    """What a registration or edit form (or the API) supplies for an elder."""

    name: str
    gender: str
    birth_date: date | None
    id_number: str
    phone: str = ""
    address: str = ""
    community: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    legal_basis: str = "statutory"
    consent_by: str = ""
    consent_at: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def elder_input_problems(data: ElderInput) -> list[dict[str, str]]:
    """Every problem with an elder's details as {item, message} (Chinese)."""
    problems: list[dict[str, str]] = []

    def add(item: str, message: str) -> None:
        problems.append({"item": item, "message": message})

    if not data.name.strip():
        add("name", "请填写姓名。")
    elif len(data.name) > 100:
        add("name", "姓名过长（最多 100 字）。")
    if data.gender not in GENDERS:
        add("gender", "性别应为 male（男）或 female（女）。")
    if data.birth_date is None:
        add("birth_date", "请填写出生日期（YYYY-MM-DD）。")
    elif data.birth_date > date.today():
        add("birth_date", "出生日期不能晚于今天。")
    for message in id_number_problems(data.id_number, birth_date=data.birth_date):
        add("id_number", message)
    for key in ("phone", "contact_phone"):
        value = getattr(data, key).strip()
        if value and not (value.replace("-", "").replace(" ", "").isdigit() and 7 <= len(value) <= 20):
            add(key, "电话号码应为 7-20 位数字。")
    if data.legal_basis not in LEGAL_BASES:
        add("legal_basis", "请选择处理个人信息的法律依据：履行法定职责或本人同意。")
    elif data.legal_basis == "consent" and (not data.consent_by.strip() or data.consent_at is None):
        add("consent_by", "依据“本人同意”时，请填写同意人和同意日期。")
    return problems


def _apply_elder(elder: Elder, data: ElderInput, cipher: FieldCipher) -> None:
    number = normalise_id_number(data.id_number)
    phone = data.phone.strip()
    contact_phone = data.contact_phone.strip()
    elder.name = data.name.strip()
    elder.gender = data.gender
    assert data.birth_date is not None
    elder.birth_date = data.birth_date
    elder.id_number_enc = cipher.encrypt(number) or ""
    elder.id_number_hash = cipher.lookup_hash(number) or ""
    elder.id_number_masked = mask_id_number(number)
    elder.phone_enc = cipher.encrypt(phone)
    elder.phone_hash = cipher.lookup_hash(phone)
    elder.phone_masked = mask_phone(phone) or None
    elder.address = data.address.strip()
    elder.community = data.community.strip()
    elder.contact_name = data.contact_name.strip()
    elder.contact_phone_enc = cipher.encrypt(contact_phone)
    elder.contact_phone_masked = mask_phone(contact_phone) or None
    elder.legal_basis = data.legal_basis
    elder.consent_by = data.consent_by.strip() if data.legal_basis == "consent" else ""
    elder.consent_at = data.consent_at if data.legal_basis == "consent" else None
    elder.updated_at = utcnow()


def _find_duplicate(session: Session, *, id_hash: str, org_ids: list[int],
                    exclude_id: int | None = None) -> Elder | None:
    stmt = select(Elder).where(Elder.id_number_hash == id_hash,
                               Elder.organisation_id.in_(org_ids))  # type: ignore[attr-defined]
    for elder in session.exec(stmt):
        if elder.id != exclude_id:
            return elder
    return None


def register_elder(*, session: Session, actor: User, organisation: Organisation, data: ElderInput,
                   cipher: FieldCipher, duplicate_scope: list[int]) -> Elder:
    """Register an older person; refuse invalid details and a second registration."""
    problems = elder_input_problems(data)
    if problems:
        raise AssessmentError("登记信息有误", errors=problems)
    id_hash = cipher.lookup_hash(normalise_id_number(data.id_number)) or ""
    existing = _find_duplicate(session, id_hash=id_hash, org_ids=[*duplicate_scope, organisation.id or 0])
    if existing is not None:
        raise DuplicateElderError(existing)
    elder = Elder(organisation_id=organisation.id or 0, name="", gender="", birth_date=date.today(),
                  id_number_enc="", id_number_hash="", id_number_masked="", created_by_id=actor.id)
    _apply_elder(elder, data, cipher)
    session.add(elder)
    session.flush()
    record_event(session=session, action="elder.register", target=elder, actor=actor,
                 changes={"name": elder.name, "id_number": "***", "legal_basis": elder.legal_basis})
    return elder


def update_elder(*, session: Session, actor: User, elder: Elder, data: ElderInput,
                 cipher: FieldCipher, duplicate_scope: list[int], version: int | None = None) -> Elder:
    """Edit an elder's details (same checks as registration). With `version`, an edit that
    began before somebody else's save raises core.db.EditConflict."""
    problems = elder_input_problems(data)
    if problems:
        raise AssessmentError("登记信息有误", errors=problems)
    id_hash = cipher.lookup_hash(normalise_id_number(data.id_number)) or ""
    existing = _find_duplicate(session, id_hash=id_hash,
                               org_ids=[*duplicate_scope, elder.organisation_id], exclude_id=elder.id)
    if existing is not None:
        raise DuplicateElderError(existing)
    def snapshot() -> dict[str, Any]:
        return {"name": elder.name, "address": elder.address, "id_number": elder.id_number_hash,
                "phone": elder.phone_hash, "legal_basis": elder.legal_basis}

    before = snapshot()
    bump_version(session, elder, version)
    _apply_elder(elder, data, cipher)
    after = snapshot()
    changed = [key for key in before if before[key] != after[key]]
    session.add(elder)
    session.flush()
    record_event(session=session, action="elder.update", target=elder, actor=actor,
                 changes={"fields": changed})
    return elder


def reveal_elder_field(*, session: Session, actor: User, elder: Elder, field_name: str,
                       cipher: FieldCipher, reason: str = "") -> str:
    """Decrypt one sensitive field for a permitted user; the reveal is audit-logged."""
    columns = {"id_number": elder.id_number_enc, "phone": elder.phone_enc,
               "contact_phone": elder.contact_phone_enc}
    if field_name not in columns:
        raise AssessmentError("不能查看该字段。", code="unknown_field")
    record_event(session=session, action="elder.reveal", target=elder, actor=actor,
                 changes={"field": field_name}, reason=reason[:1000] or None)
    return cipher.decrypt(columns[field_name]) or ""


# --- assessments --------------------------------------------------------------------------


def parse_reason(value: str) -> str:
    """Accept a reason code (initial/routine/immediate/review) or its Chinese label."""
    if value in REASONS:
        return value
    for code, label in REASONS.items():
        if value == label:
            return code
    raise AssessmentError("评估原因应为 首次评估 / 常规评估 / 即时评估 / 复评。", errors=[
        {"item": "reason", "message": "可选：" + "、".join(f"{c}（{label}）" for c, label in REASONS.items())}])


def answers_digest(assessment: Assessment) -> str:
    """SHA-256 over the instrument and the answers: what a signature is bound to."""
    payload = {"instrument": assessment.instrument_id, "version": assessment.instrument_version,
               "answers": assessment.answers}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _bump_version(session: Session, assessment: Assessment, expected: int | None) -> None:
    """Check and advance the version in one conditional UPDATE, so two writers cannot both win."""
    if expected is None:
        expected = assessment.version
    if expected != assessment.version:
        raise ConflictError(assessment.version)
    result = session.execute(
        update(Assessment)
        .where(Assessment.id == assessment.id, Assessment.version == expected)  # type: ignore[arg-type]
        .values(version=expected + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(assessment)
        raise ConflictError(assessment.version)
    assessment.version = expected + 1
    assessment.updated_at = utcnow()


def start_assessment(*, session: Session, actor: User, elder: Elder, definition: Definition,
                     reason: str, place: str = "") -> Assessment:
    """Open a draft assessment of an elder with an instrument, for a reason."""
    if definition.kind != "assessment":
        raise AssessmentError(f"{definition.id} 不是评估工具。", errors=[
            {"item": "instrument", "message": "请选择一个评估工具（不是机构评定方案）"}])
    assessment = Assessment(
        organisation_id=elder.organisation_id, elder_id=elder.id or 0,
        instrument_id=definition.id, instrument_version=definition.version,
        reason=parse_reason(reason), place=place.strip()[:200], created_by_id=actor.id,
        current_section=definition.sections[0].id if definition.sections else None,
    )
    session.add(assessment)
    session.flush()
    record_event(session=session, action="assessment.start", target=assessment, actor=actor,
                 changes={"elder_id": elder.id, "instrument": definition.id, "reason": assessment.reason})
    return assessment


def _clean_answers(definition: Definition, answers: Any) -> dict[str, Any]:
    if not isinstance(answers, dict):
        raise AssessmentError("answers 应为对象。", errors=[{"item": None, "message": "answers 应为对象"}])
    known = definition.items
    errors = [{"item": key, "message": f"未知的题目编号 {key}"} for key in answers if key not in known]
    for key, value in answers.items():
        if isinstance(value, str) and len(value) > MAX_ANSWER_TEXT:
            errors.append({"item": key, "message": f"文本过长（最多 {MAX_ANSWER_TEXT} 字）"})
        elif not isinstance(value, str | int | float | bool | list | type(None)):
            errors.append({"item": key, "message": "答案类型无效"})
    if errors:
        raise AssessmentError("答案有误", errors=errors)
    return answers


def save_answers(*, session: Session, actor: User, assessment: Assessment, definition: Definition,
                 answers: dict[str, Any], version: int | None, section: str | None = None
                 ) -> list[dict[str, Any]]:
    """Merge (partial) answers into a draft; None clears an answer. Returns the problems found
    so far (missing answers are not problems yet), which the form shows next to each item."""
    if not assessment.is_editable:
        raise AssessmentError("评估已提交，不能再修改答案。如需修改，请先退回草稿或发起更正。",
                              status=409, code="not_draft")
    cleaned = _clean_answers(definition, answers)
    _bump_version(session, assessment, version)
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
    try:
        result = score(definition, assessment.answers)
    except AnswerError as error:
        raise AssessmentError("答案未通过检查，请按提示修改。", code="invalid_answers",
                              errors=[{"item": e["item"], "message": e["message"],
                                       "message_en": e.get("message_en", "")} for e in error.errors]) from None
    _bump_version(session, assessment, version)
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
    return assessment


def reopen_assessment(*, session: Session, actor: User, assessment: Assessment) -> Assessment:
    """Send a submitted (not yet approved) assessment back to draft; its signatures lapse."""
    if assessment.status not in ("submitted", "signed"):
        raise AssessmentError("只有已提交、未审核的评估可以退回修改。", status=409, code="not_reopenable")
    _bump_version(session, assessment, None)
    for signature in signatures_of(session, assessment):
        session.delete(signature)
    assessment.status = "draft"
    assessment.result = None
    assessment.answers_hash = None
    assessment.submitted_at = None
    session.add(assessment)
    session.flush()
    record_event(session=session, action="assessment.reopen", target=assessment, actor=actor)
    return assessment


def signatures_of(session: Session, assessment: Assessment) -> list[AssessmentSignature]:
    stmt = select(AssessmentSignature).where(AssessmentSignature.assessment_id == assessment.id)
    return list(session.exec(stmt.order_by(AssessmentSignature.signed_at, AssessmentSignature.id)))  # type: ignore[arg-type]


def sign_assessment(*, session: Session, actor: User, assessment: Assessment, password: str,
                    required_signatures: int) -> AssessmentSignature:
    """Sign as an assessor (until the required number have signed) or, after that, approve as
    the reviewer, which locks the record. The password is asked again; the signature keeps the
    hash of the answers it covers."""
    if not verify_password(actor.password_hash, password or ""):
        record_event(session=session, action="assessment.sign_failed", target=assessment, actor=actor)
        raise AssessmentError("密码不正确，未签名。", status=403, code="bad_password",
                              errors=[{"item": "password", "message": "密码不正确"}])
    existing = signatures_of(session, assessment)
    if any(s.user_id == actor.id for s in existing):
        raise AssessmentError("您已经签过名了；需要另一位人员签名。", status=409, code="already_signed")
    digest = answers_digest(assessment)
    if assessment.answers_hash and digest != assessment.answers_hash:
        raise AssessmentError("答案与提交时不一致，不能签名。", status=409, code="hash_mismatch")
    assessors = [s for s in existing if s.role == "assessor"]
    if assessment.status == "submitted" or (assessment.status == "signed"
                                            and len(assessors) < required_signatures):
        if not actor.has_role("assessor"):
            raise AssessmentError("需要评估员先签名。", status=403, code="assessor_required")
        role = "assessor"
    elif assessment.status == "signed":
        if not actor.has_role("reviewer"):
            raise AssessmentError("评估员已全部签名，等待审核员审核。", status=403, code="reviewer_required")
        role = "reviewer"
    elif assessment.status == "draft":
        raise AssessmentError("请先提交评估，再签名。", status=409, code="not_submitted")
    else:
        raise AssessmentError("评估已审核锁定。", status=409, code="locked")
    _bump_version(session, assessment, None)
    signature = AssessmentSignature(assessment_id=assessment.id or 0, user_id=actor.id or 0,
                                    role=role, answers_hash=digest, signed_at=utcnow())
    session.add(signature)
    if role == "assessor" and len(assessors) + 1 >= required_signatures:
        assessment.status = "signed"
    elif role == "reviewer":
        assessment.status = "approved"
        assessment.reviewer_id = actor.id
        assessment.approved_at = signature.signed_at
        if assessment.amends_id:
            previous = session.get(Assessment, assessment.amends_id)
            if previous is not None:
                previous.superseded_by_id = assessment.id
                session.add(previous)
    session.add(assessment)
    session.flush()
    record_event(session=session, action="assessment.approve" if role == "reviewer" else "assessment.sign",
                 target=assessment, actor=actor, changes={"answers_hash": digest, "role": role})
    return signature


def amend_assessment(*, session: Session, actor: User, assessment: Assessment, reason: str) -> Assessment:
    """Open a new version of a locked assessment; the old one stays as it was, viewable."""
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError("更正必须填写原因。", errors=[{"item": "reason", "message": "请填写更正原因"}])
    if not assessment.is_locked:
        raise AssessmentError("只有已审核锁定的评估需要通过更正修改。", status=409, code="not_locked")
    if assessment.superseded_by_id:
        raise AssessmentError("该评估已有更新的版本，请在最新版本上更正。", status=409, code="superseded")
    pending = session.exec(select(Assessment).where(Assessment.amends_id == assessment.id)).first()
    if pending is not None:
        raise AssessmentError("该评估已有一份进行中的更正。", status=409, code="amendment_pending")
    amendment = Assessment(
        organisation_id=assessment.organisation_id, elder_id=assessment.elder_id,
        instrument_id=assessment.instrument_id, instrument_version=assessment.instrument_version,
        reason=assessment.reason, place=assessment.place, answers=dict(assessment.answers),
        current_section=assessment.current_section, revision=assessment.revision + 1,
        amends_id=assessment.id, amendment_reason=reason[:1000], created_by_id=actor.id,
    )
    session.add(amendment)
    session.flush()
    record_event(session=session, action="assessment.amend", target=amendment, actor=actor,
                 changes={"amends": assessment.id}, reason=reason[:1000])
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


def set_entitlement(*, session: Session, actor: User, organisation: Organisation, instrument_id: str,
                    level_code: int, services: list[str], monthly_subsidy_fen: int, note: str = "") -> Entitlement:
    """Create or replace one row of an organisation's level → services and subsidy table."""
    if monthly_subsidy_fen < 0:
        raise AssessmentError("补贴金额不能为负数。", errors=[{"item": "monthly_subsidy", "message": "不能为负数"}])
    row = session.exec(select(Entitlement).where(
        Entitlement.organisation_id == organisation.id, Entitlement.instrument_id == instrument_id,
        Entitlement.level_code == level_code)).first()
    if row is None:
        row = Entitlement(organisation_id=organisation.id or 0, instrument_id=instrument_id,
                          level_code=level_code)
    row.services = [s.strip() for s in services if s.strip()]
    row.monthly_subsidy_fen = monthly_subsidy_fen
    row.note = note.strip()[:300]
    session.add(row)
    session.flush()
    record_event(session=session, action="entitlement.set", target=row, actor=actor,
                 changes={"level": level_code, "services": row.services, "subsidy_fen": monthly_subsidy_fen})
    return row

