"""Plain data for the API, the pages and the documents (masked: no full ID number or phone)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from accounts.models import User
from assessment import queries
from assessment.models import REASONS, STATUSES, Assessment, Elder, Entitlement
from assessment.operations import answers_digest


def elder_public(elder: Elder) -> dict[str, Any]:
    return {
        "id": elder.id,
        "organisation_id": elder.organisation_id,
        "name": elder.name,
        "gender": elder.gender,
        "birth_date": elder.birth_date.isoformat(),
        "id_number": elder.id_number_masked,
        "phone": elder.phone_masked or "",
        "address": elder.address,
        "community": elder.community,
        "contact_name": elder.contact_name,
        "contact_phone": elder.contact_phone_masked or "",
        "legal_basis": elder.legal_basis,
        "consent_by": elder.consent_by,
        "consent_at": elder.consent_at.isoformat() if elder.consent_at else None,
        "latitude": elder.latitude,
        "longitude": elder.longitude,
    }


def money(fen: int) -> str:
    """Fen as yuan for people: 30000 → "300.00 元"."""
    return f"{fen / 100:.2f} 元"


def entitlement_public(row: Entitlement | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"level_code": row.level_code, "services": list(row.services),
            "monthly_subsidy_yuan": round(row.monthly_subsidy_fen / 100, 2),
            "monthly_subsidy": money(row.monthly_subsidy_fen), "note": row.note}


def signatures_public(session: Session, assessment: Assessment) -> list[dict[str, Any]]:
    digest = answers_digest(assessment)
    return [{"user_id": user.id, "username": user.username, "name": user.display_name or user.username,
             "role": sig.role, "signed_at": sig.signed_at.isoformat(), "answers_hash": sig.answers_hash,
             "valid": sig.answers_hash == digest}
            for sig, user in queries.signatures_with_users(session, assessment)]


def history_public(session: Session, assessment: Assessment) -> list[dict[str, Any]]:
    return [{"id": a.id, "revision": a.revision, "status": a.status,
             "amendment_reason": a.amendment_reason, "created_at": a.created_at.isoformat(),
             "approved_at": a.approved_at.isoformat() if a.approved_at else None,
             "is_current": a.superseded_by_id is None}
            for a in queries.history_of(session, assessment)]


def assessment_public(session: Session, assessment: Assessment, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": assessment.id,
        "elder_id": assessment.elder_id,
        "organisation_id": assessment.organisation_id,
        "instrument": assessment.instrument_id,
        "instrument_version": assessment.instrument_version,
        "reason": assessment.reason,
        "reason_label": REASONS.get(assessment.reason, assessment.reason),
        "status": assessment.status,
        "status_label": STATUSES.get(assessment.status, assessment.status),
        "version": assessment.version,
        "revision": assessment.revision,
        "amends_id": assessment.amends_id,
        "amendment_reason": assessment.amendment_reason,
        "superseded_by_id": assessment.superseded_by_id,
        "current_section": assessment.current_section,
        "created_at": assessment.created_at.isoformat(),
        "submitted_at": assessment.submitted_at.isoformat() if assessment.submitted_at else None,
        "approved_at": assessment.approved_at.isoformat() if assessment.approved_at else None,
    }
    if full:
        out.update(
            answers=assessment.answers,
            result=assessment.result,
            answers_hash=assessment.answers_hash,
            signatures=signatures_public(session, assessment),
            required_signatures=queries.required_signatures(),
            history=history_public(session, assessment),
            entitlement=entitlement_public(queries.entitlement_for(session, assessment)),
        )
    return out


def domain_rows(result: dict[str, Any] | None, lang: str = "zh") -> list[dict[str, Any]]:
    """The result's domains as rows for the chart and tables."""
    rows = []
    for domain_id, domain in ((result or {}).get("domains") or {}).items():
        label = (domain.get("label_en") if lang == "en" else None) or domain.get("label") or domain_id
        rows.append({"id": domain_id, "label": label, "score": domain.get("score"), "max": domain.get("max")})
    return rows


def user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user else ""

