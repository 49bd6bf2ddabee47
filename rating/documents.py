"""Context builders for the rating documents (templates/documents/certificate.html and
rectification_notice.html), and the verification URL printed in the QR code."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from sqlmodel import Session

from accounts.models import Organisation, User
from rating.models import SEVERITIES, Certificate, CorrectiveAction, Facility, Grade, Inspection
from rating.operations.actions import aware
from rating.operations.certificates import scheme_title
from rating.signing import pack_token


def verify_url(certificate: Certificate, *, with_payload: bool = True) -> str:
    """The public verification URL: short (the 24-character code) to print and type; the QR
    version also carries the signed payload, for checking offline."""
    base = f"{current_app.config.get('PUBLIC_URL', '').rstrip('/')}/verify/{certificate.code}"
    if not with_payload:
        return base
    return f"{base}?d={pack_token(certificate.payload, certificate.signature)}"


def certificate_context(session: Session, certificate: Certificate) -> dict[str, Any]:
    """The context certificate.html documents at its top."""
    grade = session.get(Grade, certificate.grade_id)
    facility = session.get(Facility, certificate.facility_id)
    issuer = session.get(Organisation, certificate.organisation_id)
    assert grade is not None and facility is not None
    return {
        "facility": {"name": facility.name, "address": facility.address},
        "grade": {"code": str(grade.code), "label": grade.label, "stars": grade.stars or None,
                  "medal": grade.medal if grade.medal in ("gold", "silver", "bronze") else None},
        "scheme_title": scheme_title(grade.scheme),
        "serial_number": certificate.serial,
        "issued_on": certificate.issued_on,
        "valid_until": certificate.valid_until,
        "issuer": {"name": issuer.name if issuer else ""},
        "verify_url": verify_url(certificate, with_payload=False),
        "qr_url": verify_url(certificate),
        "filename": f"{certificate.serial}.pdf",
    }


def notice_context(session: Session, inspection: Inspection, actions: list[CorrectiveAction]) -> dict[str, Any]:
    """The context rectification_notice.html documents at its top."""
    facility = session.get(Facility, inspection.facility_id)
    issuer = session.get(Organisation, inspection.organisation_id)
    assert facility is not None
    names = []
    for uid in inspection.inspector_ids:
        user = session.get(User, uid)
        if user is not None:
            names.append(user.display_name or user.username)
    result = inspection.result or {}
    grade = (result.get("grade") or {}).get("label", "")
    findings = [{
        "code": a.item_id or "整体",
        "description": a.description,
        "severity": SEVERITIES.get(a.severity, a.severity),
        "action": a.required_action,
        "deadline": aware(a.due_at).date(),
    } for a in actions]
    submitted = aware(inspection.submitted_at).date() if inspection.submitted_at else aware(inspection.created_at).date()
    note = f"本次检查得分 {result.get('total')} / {result.get('max_total')}，拟评定为：{grade}。"
    if inspection.is_unqualified:
        note += "评定结果为不合格，期满后将复查，复查仍不合格的，取消服务提供资格。"
    note += "请登录颐养系统，在“整改”页面逐项提交整改说明和照片。"
    return {
        "notice_no": f"ZG{submitted:%Y}-{inspection.id:06d}",
        "facility": {"name": facility.name, "address": facility.address, "contact": facility.operator},
        "inspection": {"date": submitted, "scheme_title": scheme_title(inspection.scheme), "inspectors": names},
        "findings": findings,
        "issuer": {"name": issuer.name if issuer else ""},
        "issued_on": submitted,
        "reply_note": note,
    }


def certificate_pdf_response(session: Session, certificate: Certificate) -> Response:
    """The certificate as an inline PDF (the page and the API serve the same document)."""
    from reports import render_pdf

    pdf = render_pdf("certificate.html", certificate_context(session, certificate))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={certificate.serial}.pdf"})
