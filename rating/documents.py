"""Context builders for the rating documents (templates/documents/certificate.html and
rectification_notice.html), the verification URL printed in the QR code, and the one place
that refuses a rectification notice with nothing to rectify."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from sqlmodel import Session, select

from accounts.models import Organisation, User
from core.errors import DomainError
from core.i18n import N_
from rating.models import (
    SEVERITIES,
    Certificate,
    CorrectiveAction,
    EvidencePhoto,
    Facility,
    Grade,
    Inspection,
)
from rating.operations.actions import aware
from rating.operations.certificates import scheme_title
from rating.operations.inspections import definition_of
from rating.signing import pack_token

NOTICE_LANGUAGES = ("zh", "en")
SEVERITIES_EN = {"critical": "Critical", "major": "Major", "minor": "Minor"}


class NoticeRefused(DomainError):
    """A rectification notice that must not be issued: before submission, or with nothing to
    rectify (an empty notice is never issued)."""

    status = 409


def short_verify_url(code: str) -> str:
    """The short public verification URL of a certificate code (printed, listed in the register)."""
    return f"{current_app.config.get('PUBLIC_URL', '').rstrip('/')}/verify/{code}"


def verify_url(certificate: Certificate, *, with_payload: bool = True) -> str:
    """The public verification URL: short (the 24-character code) to print and type; the QR
    version also carries the signed payload, for checking offline."""
    base = short_verify_url(certificate.code)
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


def notice_context(session: Session, inspection: Inspection, actions: list[CorrectiveAction],
                   lang: str = "zh") -> dict[str, Any]:
    """The context rectification_notice.html documents at its top: every failed item with its
    text from the scheme version the inspection was captured with, in the document's language
    (an English notice also prints the Chinese text, the official wording). Refuses
    (NoticeRefused) before submission and when there is nothing to rectify."""
    if inspection.status not in ("submitted", "approved"):
        raise NoticeRefused(N_("检查提交后才能生成整改通知书"), code="conflict")
    if not actions:
        raise NoticeRefused(N_("本次检查没有扣分项，无需整改，不出具整改通知书"), code="nothing_to_rectify")
    en = lang == "en"
    facility = session.get(Facility, inspection.facility_id)
    issuer = session.get(Organisation, inspection.organisation_id)
    assert facility is not None
    definition = definition_of(inspection)
    items = definition.items
    names = []
    for uid in inspection.inspector_ids:
        user = session.get(User, uid)
        if user is not None:
            names.append(user.display_name or user.username)
    result = inspection.result or {}
    grade = result.get("grade") or {}
    title = definition.title.get(lang) if en else scheme_title(inspection.scheme)
    thumbs = _item_thumbnails(session, inspection)
    findings = []
    for a in actions:
        item = items.get(a.item_id) if a.item_id else None
        note = inspection.notes.get(a.item_id, "") if a.item_id else ""
        deadline = aware(a.due_at).date()
        if a.is_rectification or item is None:
            text = "Overall result below the pass mark" if en else "综合评定结果不合格"
            text_zh = "综合评定结果不合格" if en else ""
            description = (f"Total {result.get('total')} points, below the pass mark." if en
                           and a.is_rectification else a.description)
            action = ("Rectify as a whole by the deadline; re-inspection follows, and a facility that still "
                      "fails loses its right to provide services." if en and a.is_rectification
                      else a.required_action)
        else:
            text = item.title.get(lang)
            text_zh = item.title.zh if en and item.title.zh != text else ""
            lost = a.points_lost if a.points_lost is not None else ""
            description = (f"{lost} points lost" if en else f"扣 {lost} 分") + (f"; {note}" if en and note else
                                                                                  f"：{note}" if note else "")
            action = ("Rectify as the scheme requires for this item and submit photos or documents."
                      if en else a.required_action)
        findings.append({
            "code": a.item_id or ("Overall" if en else "整体"),
            "item": text,
            "item_zh": text_zh,
            "description": description,
            "severity": SEVERITIES_EN.get(a.severity, a.severity) if en else SEVERITIES.get(a.severity, a.severity),
            "action": action,
            "deadline": deadline,
            "photos": thumbs.get(a.item_id, []) if a.item_id else [],
        })
    submitted = aware(inspection.submitted_at).date() if inspection.submitted_at else aware(inspection.created_at).date()
    if en:
        note = (f"Score of this inspection: {result.get('total')} / {result.get('max_total')}; proposed grade: "
                f"{grade.get('label_en') or grade.get('label', '')}. ")
        if inspection.is_unqualified:
            note += ("The result is unqualified: the facility is re-inspected after the deadline, and a facility "
                     "that still fails loses its right to provide services. ")
        note += "Sign in to Yiyang and submit a note and photos for each item on the Rectification page."
    else:
        note = f"本次检查得分 {result.get('total')} / {result.get('max_total')}，拟评定为：{grade.get('label', '')}。"
        if inspection.is_unqualified:
            note += "评定结果为不合格，期满后将复查，复查仍不合格的，取消服务提供资格。"
        note += "请登录颐养系统，在“整改”页面逐项提交整改说明和照片。"
    return {
        "lang": "en" if en else "zh",
        "notice_no": f"ZG{submitted:%Y}-{inspection.id:06d}",
        "facility": {"name": facility.name, "address": facility.address, "contact": facility.operator},
        "inspection": {"date": submitted, "scheme_title": title, "inspectors": names},
        "findings": findings,
        "issuer": {"name": issuer.name if issuer else ""},
        "issued_on": submitted,
        "reply_note": note,
    }


def _item_thumbnails(session: Session, inspection: Inspection) -> dict[str, list[str]]:
    """Checklist item → its inspection photos as small JPEG data: URLs (core.photos)."""
    from core.photos import thumbnail_data_url
    from core.storage import get_storage

    storage = get_storage()
    out: dict[str, list[str]] = {}
    stmt = select(EvidencePhoto).where(EvidencePhoto.inspection_id == inspection.id).order_by(EvidencePhoto.id)  # type: ignore[arg-type]
    for photo in session.exec(stmt):
        url = thumbnail_data_url(storage, f"rating_photos/{photo.organisation_id}/{photo.stored_name}")
        if url and photo.item_id:
            out.setdefault(photo.item_id, []).append(url)
    return out


def notice_pdf_response(session: Session, inspection: Inspection, actions: list[CorrectiveAction],
                        lang: str = "zh") -> Response:
    """The rectification notice as an inline PDF (pages and API); NoticeRefused when it must
    not be issued."""
    from reports import render_pdf

    pdf = render_pdf("rectification_notice.html",
                     notice_context(session, inspection, actions, lang if lang in NOTICE_LANGUAGES else "zh"))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=notice-{inspection.id}.pdf"})


def certificate_pdf_response(session: Session, certificate: Certificate) -> Response:
    """The certificate as an inline PDF (the page and the API serve the same document)."""
    from reports import render_pdf

    pdf = render_pdf("certificate.html", certificate_context(session, certificate))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={certificate.serial}.pdf"})
