"""The public register (信息公开 of the rating schemes): every graded or disqualified facility
with its current grade, validity and certificate, read from rating_facility_state, filtered
and keyset-paged in SQL. Only what the schemes publish: facility name, kind, district, grade,
validity, the certificate's verification code, the disqualification and its reason. Never an
address, operator, contact, phone, inspector or any person's name."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from core.paging import Page, PageParams, Sort, paginate
from core.reasons import reason_text
from rating.models import FACILITY_KINDS, Certificate, Facility, FacilityState, Grade
from rating.schemes import grade_name

STATUSES = ("graded", "disqualified")


def grade_choices(lang: str) -> list[tuple[str, str]]:
    """("scheme:code", "scheme title · grade") of every grade the published schemes award."""
    from rating.schemes import rating_schemes

    return [(f"{d.id}:{level.code}", f"{d.title.get(lang)} · {level.label.get(lang)}")
            for d in rating_schemes() for level in d.levels]


def register_page(session: Session, args: Mapping[str, Any], params: PageParams) -> Page:
    """Facilities by name. Filters: district, kind, grade ("scheme:code", e.g. community-star:5),
    status (graded | disqualified); unknown filter values match nothing rather than everything."""
    stmt = (select(Facility.id, Facility.name, Facility.kind, Facility.district, Facility.is_disqualified,
                   Facility.disqualified_at, Facility.disqualified_reason, FacilityState.grade_code,
                   FacilityState.grade_label, FacilityState.grade_valid_until, Grade.scheme, Grade.stars,
                   Grade.medal, Certificate.code.label("certificate_code"),  # type: ignore[attr-defined]
                   Certificate.revoked_at.label("certificate_revoked_at"))  # type: ignore[union-attr]
            .join(FacilityState, col(FacilityState.facility_id) == Facility.id)
            .outerjoin(Grade, col(Grade.id) == FacilityState.grade_id)
            .outerjoin(Certificate, and_(col(Certificate.grade_id) == FacilityState.grade_id,
                                         col(Certificate.revoked_at).is_(None)))
            .where(or_(col(FacilityState.grade_id).is_not(None), col(Facility.is_disqualified).is_(True))))
    district = str(args.get("district") or "").strip()[:100]
    if district:
        stmt = stmt.where(Facility.district == district)
    kind = str(args.get("kind") or "").strip()
    if kind:
        stmt = stmt.where(Facility.kind == (kind if kind in FACILITY_KINDS else ""))
    grade = str(args.get("grade") or "").strip()[:100]
    if grade:
        scheme, _sep, code = grade.rpartition(":")
        number = int(code) if code.isascii() and code.isdigit() and len(code) < 6 else -1
        stmt = stmt.where(Grade.scheme == scheme, FacilityState.grade_code == number,
                          col(Facility.is_disqualified).is_(False))
    status = str(args.get("status") or "").strip()
    if status == "disqualified":
        stmt = stmt.where(col(Facility.is_disqualified).is_(True))
    elif status == "graded":
        stmt = stmt.where(col(Facility.is_disqualified).is_(False))
    elif status:
        stmt = stmt.where(col(Facility.id).is_(None))
    return paginate(session, stmt, [Sort(Facility.name), Sort(Facility.id)],
                    key=lambda row: (row.name, row.id), params=params)


def entry(row: Any, lang: str, levels: dict[str, dict[int, Any]], today: date) -> dict[str, Any]:
    """One register row as the page and the JSON show it (nothing else leaves this module)."""
    grade = None
    if row.grade_label is not None and not row.is_disqualified:
        grade = {"code": row.grade_code, "label": grade_name(row.scheme, row.grade_code, row.grade_label, lang, levels),
                 "scheme": row.scheme, "stars": row.stars or None, "medal": row.medal if row.medal != "none" else None}
    valid_until = row.grade_valid_until
    return {
        "id": row.id, "name": row.name, "kind": row.kind, "district": row.district, "grade": grade,
        "valid_until": valid_until.isoformat() if valid_until and grade else None,
        "is_expired": bool(grade and valid_until and valid_until < today),
        "certificate_code": row.certificate_code if grade else None,
        "disqualified": ({"on": row.disqualified_at.date().isoformat() if row.disqualified_at else None,
                          "reason": reason_text(row.disqualified_reason)} if row.is_disqualified else None),
    }
