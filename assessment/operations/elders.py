"""Writes for elders: register, edit, reveal a masked field. Keyword-only, take the session, flush."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from accounts.models import Organisation, User
from assessment.idnumber import id_number_problems, normalise_id_number
from assessment.models import (
    GENDERS,
    LEGAL_BASES,
    Elder,
)
from assessment.names import index_name
from assessment.operations.errors import AssessmentError, DuplicateElderError
from assessment.state import refresh_elder_state
from audit import record_event
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.db import bump_version
from core.i18n import N_
from core.once import add_once
from core.timeutil import utcnow

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
    latitude: Any = None  # the address's coordinates, optional: both or neither (WGS 84 degrees)
    longitude: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_coordinates(latitude: Any, longitude: Any) -> tuple[float | None, float | None, list[dict[str, str]]]:
    """(latitude, longitude, problems) from what a form or the API sent: both or neither, in range."""
    def number(value: Any) -> float | None | str:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            return "bad"
        try:
            parsed = float(value)
        except (TypeError, ValueError):
            return "bad"
        return parsed if math.isfinite(parsed) else "bad"

    lat, lon = number(latitude), number(longitude)
    problems = []
    if lat == "bad" or (isinstance(lat, float) and not -90 <= lat <= 90):
        problems.append({"item": "latitude", "message": N_("纬度应为 -90 到 90 之间的数字。")})
    if lon == "bad" or (isinstance(lon, float) and not -180 <= lon <= 180):
        problems.append({"item": "longitude", "message": N_("经度应为 -180 到 180 之间的数字。")})
    if not problems and (lat is None) != (lon is None):
        problems.append({"item": "latitude" if lat is None else "longitude",
                         "message": N_("经纬度要么都填，要么都不填。")})
    if problems:
        return None, None, problems
    return lat, lon, []  # type: ignore[return-value]


def elder_input_problems(data: ElderInput) -> list[dict[str, Any]]:
    """Every problem with an elder's details as {item, message}: catalog messages, read in the request's
    language where they are shown."""
    problems: list[dict[str, Any]] = []

    def add(item: str, message: Any) -> None:
        problems.append({"item": item, "message": message})

    if not data.name.strip():
        add("name", N_("请填写姓名。"))
    elif len(data.name) > 100:
        add("name", N_("姓名过长（最多 100 字）。"))
    if data.gender not in GENDERS:
        add("gender", N_("性别应为 male（男）或 female（女）。"))
    if data.birth_date is None:
        add("birth_date", N_("请填写出生日期（YYYY-MM-DD）。"))
    elif data.birth_date > date.today():
        add("birth_date", N_("出生日期不能晚于今天。"))
    for message in id_number_problems(data.id_number, birth_date=data.birth_date):
        add("id_number", message)
    for key in ("phone", "contact_phone"):
        value = getattr(data, key).strip()
        if value and not (value.replace("-", "").replace(" ", "").isdigit() and 7 <= len(value) <= 20):
            add(key, N_("电话号码应为 7-20 位数字。"))
    problems.extend(parse_coordinates(data.latitude, data.longitude)[2])
    if data.legal_basis not in LEGAL_BASES:
        add("legal_basis", N_("请选择处理个人信息的法律依据：履行法定职责或本人同意。"))
    elif data.legal_basis == "consent" and (not data.consent_by.strip() or data.consent_at is None):
        add("consent_by", N_("依据“本人同意”时，请填写同意人和同意日期。"))
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
    elder.latitude, elder.longitude, _problems = parse_coordinates(data.latitude, data.longitude)
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
    from accounts.organisations import inactive_problem

    problems = elder_input_problems(data)
    inactive = inactive_problem(session, organisation.id)
    if inactive:
        problems.append(inactive)
    if problems:
        raise AssessmentError(N_("登记信息有误"), errors=problems)
    id_hash = cipher.lookup_hash(normalise_id_number(data.id_number)) or ""
    existing = _find_duplicate(session, id_hash=id_hash, org_ids=[*duplicate_scope, organisation.id or 0])
    if existing is not None:
        raise DuplicateElderError(existing)
    elder = Elder(organisation_id=organisation.id or 0, name="", gender="", birth_date=date.today(),
                  id_number_enc="", id_number_hash="", id_number_masked="", created_by_id=actor.id)
    _apply_elder(elder, data, cipher)
    if not add_once(session, elder):  # the same person registered at the same moment
        existing = _find_duplicate(session, id_hash=id_hash, org_ids=[*duplicate_scope, organisation.id or 0])
        if existing is None:
            raise AssessmentError(N_("该身份证号刚被登记，请刷新后查找。"), status=409, code="duplicate",
                                  errors=[{"item": "id_number", "message": N_("该身份证号已登记")}])
        raise DuplicateElderError(existing)
    record_event(session=session, action="elder.register", target=elder, actor=actor,
                 changes={"name": elder.name, "id_number": "***", "legal_basis": elder.legal_basis})
    index_name(session, elder)
    refresh_elder_state(session, elder.id)
    return elder


def update_elder(*, session: Session, actor: User, elder: Elder, data: ElderInput,
                 cipher: FieldCipher, duplicate_scope: list[int], version: int | None = None) -> Elder:
    """Edit an elder's details (same checks as registration). With `version`, an edit that
    began before somebody else's save raises core.db.EditConflict."""
    problems = elder_input_problems(data)
    if problems:
        raise AssessmentError(N_("登记信息有误"), errors=problems)
    id_hash = cipher.lookup_hash(normalise_id_number(data.id_number)) or ""
    existing = _find_duplicate(session, id_hash=id_hash,
                               org_ids=[*duplicate_scope, elder.organisation_id], exclude_id=elder.id)
    if existing is not None:
        raise DuplicateElderError(existing)
    def snapshot() -> dict[str, Any]:
        return {"name": elder.name, "address": elder.address, "id_number": elder.id_number_hash,
                "phone": elder.phone_hash, "legal_basis": elder.legal_basis,
                "coordinates": (elder.latitude, elder.longitude)}

    before = snapshot()
    bump_version(session, elder, version)
    _apply_elder(elder, data, cipher)
    after = snapshot()
    changed = [key for key in before if before[key] != after[key]]
    session.add(elder)
    session.flush()
    record_event(session=session, action="elder.update", target=elder, actor=actor,
                 changes={"fields": changed})
    index_name(session, elder)  # the name or the organisation (set by the caller) may have changed
    refresh_elder_state(session, elder.id)
    return elder


def reveal_elder_field(*, session: Session, actor: User, elder: Elder, field_name: str,
                       cipher: FieldCipher, reason: str = "") -> str:
    """Decrypt one sensitive field for a permitted user; the reveal is audit-logged."""
    columns = {"id_number": elder.id_number_enc, "phone": elder.phone_enc,
               "contact_phone": elder.contact_phone_enc}
    if field_name not in columns:
        raise AssessmentError(N_("不能查看该字段。"), code="unknown_field")
    record_event(session=session, action="elder.reveal", target=elder, actor=actor,
                 changes={"field": field_name}, reason=reason[:1000] or None)
    return cipher.decrypt(columns[field_name]) or ""


