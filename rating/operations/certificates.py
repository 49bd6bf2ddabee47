"""Certificates: issue (serial, unguessable code, Ed25519-signed payload), batch issue, revoke,
and the status computed at read time from the grade, the facility and the dates."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from accounts.models import Organisation
from audit import record_event
from core.timeutil import utcnow
from jobs.events import emit
from rating.models import Certificate, Facility, Grade
from rating.operations.facilities import RatingError
from rating.schemes import get_scheme
from rating.signing import sign_payload, verify_signature


def build_payload(*, certificate_code: str, serial: str, facility: Facility, grade: Grade,
                  issuer: str, issued_on: date) -> dict[str, Any]:
    """What the QR code carries (and the signature covers)."""
    return {
        "v": 1, "code": certificate_code, "serial": serial, "facility": facility.name,
        "scheme": grade.scheme, "grade": grade.code, "label": grade.label,
        "issued_on": issued_on.isoformat(), "valid_until": grade.valid_until.isoformat(),
        "issuer": issuer,
    }


def issue_certificate(*, session: Session, actor: Any, grade: Grade,
                      now: datetime | None = None) -> tuple[Certificate, bool]:
    """Issue the certificate of an awarded grade; (certificate, newly issued). Issuing again
    returns the existing one."""
    existing = session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).first()
    if existing is not None:
        return existing, False
    if grade.code <= 0:
        raise RatingError("未达到等级，不发证书")
    if grade.superseded_by_id is not None:
        raise RatingError("该等级已被新等级取代，不再发证", status=409)
    facility = session.get(Facility, grade.facility_id)
    assert facility is not None
    if facility.is_disqualified:
        raise RatingError("该机构已被取消服务提供资格，不能发证", status=409)
    now = now or utcnow()
    issuer = session.get(Organisation, grade.organisation_id)
    code = secrets.token_urlsafe(18)
    serial = f"YY{now:%Y}-{grade.scheme[:6].upper().replace('-', '')}-{grade.id:06d}"
    payload = build_payload(certificate_code=code, serial=serial, facility=facility, grade=grade,
                            issuer=issuer.name if issuer else "", issued_on=now.date())
    text, signature = sign_payload(payload)
    certificate = Certificate(organisation_id=grade.organisation_id, grade_id=grade.id,
                              facility_id=grade.facility_id, serial=serial, code=code, payload=text,
                              signature=signature, issued_on=now.date(), valid_until=grade.valid_until,
                              issued_at=now, issued_by_id=getattr(actor, "id", None))
    session.add(certificate)
    session.flush()
    record_event(session=session, action="rating.certificate.issue", target=certificate, actor=actor,
                 changes={"new": {"serial": serial, "grade_id": grade.id, "grade": grade.code,
                                  "valid_until": grade.valid_until.isoformat()}})
    emit(session, "certificate.issued", certificate)
    return certificate, True


def issuable_grades(*, session: Session, organisation_ids: list[int], plan_id: int | None = None) -> list[Grade]:
    """Approved grades with a level, still current, without a certificate yet."""
    stmt = select(Grade).where(Grade.organisation_id.in_(organisation_ids), Grade.code > 0,  # type: ignore[attr-defined]
                               Grade.superseded_by_id == None)  # noqa: E711
    if plan_id is not None:
        stmt = stmt.where(Grade.plan_id == plan_id)
    issued = set(session.exec(select(Certificate.grade_id)))
    grades = [g for g in session.exec(stmt.order_by(Grade.id)) if g.id not in issued]
    disqualified = {f.id for f in session.exec(select(Facility).where(Facility.is_disqualified == True))}  # noqa: E712
    return [g for g in grades if g.facility_id not in disqualified]


def issue_batch(*, session: Session, actor: Any, grades: list[Grade],
                progress: Callable[[Grade], None] | None = None,
                now: datetime | None = None) -> list[Certificate]:
    """Issue certificates for many grades; already issued ones are skipped, so re-running
    issues nothing twice."""
    issued = []
    for grade in grades:
        certificate, created = issue_certificate(session=session, actor=actor, grade=grade, now=now)
        if created:
            issued.append(certificate)
        if progress:
            progress(grade)
    return issued


def revoke_certificate(*, session: Session, actor: Any, certificate: Certificate, reason: str,
                       now: datetime | None = None) -> Certificate:
    """Revoke a certificate; a reason is required and kept in the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise RatingError([{"item": "reason", "message": "撤销证书必须填写原因"}])
    if certificate.revoked_at is not None:
        return certificate
    certificate.revoked_at = now or utcnow()
    certificate.revoked_reason = reason[:500]
    certificate.revoked_by_id = getattr(actor, "id", None)
    session.add(certificate)
    session.flush()
    record_event(session=session, action="rating.certificate.revoke", target=certificate, actor=actor,
                 changes={"old": {"revoked": False}, "new": {"revoked": True}}, reason=reason)
    emit(session, "certificate.revoked", certificate)
    return certificate


def certificate_status(*, certificate: Certificate, grade: Grade, facility: Facility,
                       today: date | None = None) -> tuple[str, str | None]:
    """(status, reason) computed now: revoked, superseded, expired or valid."""
    today = today or utcnow().date()
    if certificate.revoked_at is not None:
        return "revoked", certificate.revoked_reason
    if facility.is_disqualified:
        return "revoked", facility.disqualified_reason or "机构已被取消服务提供资格"
    if grade.superseded_by_id is not None:
        return "superseded", None
    if today > certificate.valid_until:
        return "expired", None
    return "valid", None


def grade_status(*, grade: Grade, facility: Facility, today: date | None = None) -> str:
    """active, superseded, expired or revoked (facility disqualified)."""
    today = today or utcnow().date()
    if facility.is_disqualified:
        return "revoked"
    if grade.superseded_by_id is not None:
        return "superseded"
    if today > grade.valid_until:
        return "expired"
    return "active"


def check_token(*, certificate: Certificate, payload_text: str | None, signature: str | None) -> bool:
    """Whether a presented payload is genuine: signed by us and equal to what we issued."""
    if payload_text is None or signature is None:
        return verify_signature(certificate.payload, certificate.signature)
    if not verify_signature(payload_text, signature):
        return False
    try:
        presented = json.loads(payload_text)
    except ValueError:
        return False
    return bool(presented == json.loads(certificate.payload) and presented.get("code") == certificate.code)


def scheme_title(scheme_id: str) -> str:
    try:
        return get_scheme(scheme_id).title.zh
    except LookupError:
        return scheme_id
