"""Certificates: issue (serial, unguessable code, Ed25519-signed payload), batch issue, revoke,
the status computed at read time from the grade, the facility and the dates, and the public
verification (public key only)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from accounts.models import Organisation
from audit import record_event
from core.i18n import N_
from core.once import add_once
from core.reasons import FACILITY_DISQUALIFIED, NOT_GENUINE, UNKNOWN_CERTIFICATE, system_reason
from core.timeutil import utcnow
from core.workflow import Context
from jobs.events import emit
from rating.models import Certificate, Facility, Grade
from rating.operations.facilities import RatingError, refused
from rating.schemes import get_scheme
from rating.signing import sign_payload, verify_signature
from rating.workflow import GRADE

CODE_BYTES = 18  # 24 base64url characters: unguessable, and short enough to type


def build_payload(*, certificate_code: str, serial: str, facility: Facility, grade: Grade,
                  issued_on: date) -> dict[str, Any]:
    """What the QR code carries (and the signature covers), compact so the QR stays readable:
    v format 2, c code, s serial, f facility, sc scheme, g grade code, i issued on,
    u valid until. The issuer is whoever holds the key (docs/rating.md)."""
    return {
        "v": 2, "c": certificate_code, "s": serial, "f": facility.name, "sc": grade.scheme,
        "g": grade.code, "i": issued_on.isoformat(), "u": grade.valid_until.isoformat(),
    }


def payload_code(payload: dict[str, Any]) -> Any:
    """The certificate code a payload names (format 1 spelled keys out)."""
    return payload.get("c") if payload.get("v") == 2 else payload.get("code")


def issue_certificate(*, session: Session, actor: Any, grade: Grade, now: datetime | None = None,
                      separation_of_duties: bool = True) -> tuple[Certificate, bool]:
    """Issue the certificate of an awarded grade; (certificate, newly issued). Issuing again
    returns the existing one."""
    existing = session.exec(select(Certificate).where(Certificate.grade_id == grade.id)).first()
    if existing is not None:
        return existing, False
    GRADE.require(grade, actor, "issue_certificate", error=refused,
                  context=Context(session, {"separation_of_duties": separation_of_duties}))
    facility = session.get(Facility, grade.facility_id)
    assert facility is not None
    now = now or utcnow()
    code = secrets.token_urlsafe(CODE_BYTES)
    serial = f"YY{now:%Y}-{grade.scheme[:6].upper().replace('-', '')}-{grade.id:06d}"
    payload = build_payload(certificate_code=code, serial=serial, facility=facility, grade=grade,
                            issued_on=now.date())
    text, signature = sign_payload(payload)
    certificate = Certificate(organisation_id=grade.organisation_id, grade_id=grade.id,
                              facility_id=grade.facility_id, serial=serial, code=code, payload=text,
                              signature=signature, issued_on=now.date(), valid_until=grade.valid_until,
                              issued_at=now, issued_by_id=getattr(actor, "id", None))
    if not add_once(session, certificate):  # a concurrent issue of the same grade won
        raise RatingError(N_("该等级的证书刚刚已发放，本次未重复发证"), status=409)
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
                now: datetime | None = None, separation_of_duties: bool = True) -> list[Certificate]:
    """Issue certificates for many grades; already issued ones are skipped, so re-running
    issues nothing twice. Grades of inspections the actor took part in are left for another
    administrator (separation of duties)."""
    issued = []
    context = Context(session, {"separation_of_duties": separation_of_duties})
    for grade in grades:
        refusal = GRADE.refusal(grade, actor, "issue_certificate", context)
        if refusal is not None and refusal.code == "separation_of_duties":
            continue
        certificate, created = issue_certificate(session=session, actor=actor, grade=grade, now=now,
                                                 separation_of_duties=separation_of_duties)
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
        raise RatingError([{"item": "reason", "message": N_("撤销证书必须填写原因")}])
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
        return "revoked", facility.disqualified_reason or system_reason(FACILITY_DISQUALIFIED)
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
    return bool(isinstance(presented, dict) and presented == json.loads(certificate.payload)
                and payload_code(presented) == certificate.code)


def verification(session: Session, code: str, token: str | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of the public verification of `code` with the QR parameter `token`
    (None when the short URL was typed). Reads the public key only; never creates a key. The label is
    a msgid and the reason a stored (Chinese) reason: the caller shows them in the request's language
    (`public_verification`)."""
    from rating.models import CERTIFICATE_STATUSES
    from rating.queries import certificate_by_code
    from rating.signing import unpack_token

    item = certificate_by_code(session, code)
    if item is None:
        return 404, {"status": "unknown", "status_label": N_("查无此证书"), "genuine": False,
                     "reason": system_reason(UNKNOWN_CERTIFICATE)}
    grade, fac = session.get(Grade, item.grade_id), session.get(Facility, item.facility_id)
    assert grade is not None and fac is not None
    presented = unpack_token(token) if token else (None, None)
    genuine = presented is not None and check_token(certificate=item, payload_text=presented[0],
                                                    signature=presented[1])
    status, reason = certificate_status(certificate=item, grade=grade, facility=fac)
    if not genuine:
        status, reason = "not_genuine", system_reason(NOT_GENUINE)
    body: dict[str, Any] = {"status": status, "status_label": CERTIFICATE_STATUSES[status],
                            "reason": reason, "genuine": genuine, "serial": item.serial if genuine else None}
    if genuine:
        issuer = session.get(Organisation, item.organisation_id)
        body.update({"facility": fac.name, "grade": {"code": grade.code, "label": grade.label, "scheme": grade.scheme,
                                                     "stars": grade.stars, "medal": grade.medal},
                     "scheme": grade.scheme, "issuer": issuer.name if issuer else "",
                     "issued_on": item.issued_on.isoformat(), "valid_until": item.valid_until.isoformat()})
    return 200, body


def public_verification(body: dict[str, Any]) -> dict[str, Any]:
    """The verification's JSON answer in the request's language, as the page shows it: the status
    label through the catalog, the reason through core.reasons.reason_text."""
    from core.errors import translate
    from core.reasons import reason_text

    return {**body, "status_label": translate(body["status_label"]), "reason": reason_text(body["reason"])}


def scheme_title(scheme_id: str) -> str:
    try:
        return get_scheme(scheme_id).title.zh
    except LookupError:
        return scheme_id
