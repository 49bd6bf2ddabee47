"""Assessor qualifications (评估员资格证书): the certificate number, who issued it and until when it
is valid. An assessor whose newest qualification has expired cannot sign an assessment; with
YIYANG_QUALIFICATION_REQUIRED=1 one who has none cannot either. Writes flush and never commit;
every change is audited; edits go through the optimistic lock."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from accounts.models import AssessorQualification, User
from audit import record_event
from core.db import bump_version
from core.errors import DomainError
from core.i18n import N_
from core.paging import Page, PageParams, Sort, capped_count, paginate
from core.timeutil import utcnow

FIELDS = {"certificate_number": 100, "issuer": 200, "note": 1000}


class QualificationError(DomainError, ValueError):
    """A refused qualification record; `errors` lists every problem as {"item", "message"}."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        DomainError.__init__(self, None, status=422, code="invalid_input", errors=errors)


def _clean(data: dict[str, Any], *, partial: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The typed fields and every problem at once (Chinese messages naming the field)."""
    clean: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for name, limit in FIELDS.items():
        if name not in data:
            if not partial and name != "note":
                problems.append({"item": name, "message": N_("必填")})
            continue
        value = data[name]
        if not isinstance(value, str):
            problems.append({"item": name, "message": N_("应为文字")})
            continue
        value = " ".join(value.split()) if name != "note" else value.strip()
        if name != "note" and not value:
            problems.append({"item": name, "message": N_("必填")})
        elif len(value) > limit:
            problems.append({"item": name, "message": _l("最多 %(n)s 个字符", n=limit)})
        else:
            clean[name] = value
    if "valid_until" in data:
        value = data["valid_until"]
        if isinstance(value, date):
            clean["valid_until"] = value
        else:
            try:
                clean["valid_until"] = date.fromisoformat(str(value).strip())
            except ValueError:
                problems.append({"item": "valid_until", "message": N_("日期格式应为 年-月-日（YYYY-MM-DD）")})
    elif not partial:
        problems.append({"item": "valid_until", "message": N_("必填")})
    return clean, problems


def record_qualification(*, session: Session, user: User, actor: User | None, data: dict[str, Any]) -> AssessorQualification:
    """Record one certificate of an assessor (number, issuer, valid until, note)."""
    clean, problems = _clean(data, partial=False)
    if problems:
        raise QualificationError(problems)
    row = AssessorQualification(user_id=user.id, organisation_id=user.organisation_id, **clean)  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    record_event(session=session, action="user.qualification", target=user, actor=actor,
                 changes={"new": {"qualification_id": row.id, **_public(row)}})
    return row


def update_qualification(*, session: Session, qualification: AssessorQualification, actor: User | None,
                         data: dict[str, Any], version: int | None = None) -> AssessorQualification:
    """Correct or renew a recorded certificate; two administrators never both win (the version)."""
    clean, problems = _clean(data, partial=True)
    if problems:
        raise QualificationError(problems)
    bump_version(session, qualification, version)
    changes = {}
    for name, value in clean.items():
        old = getattr(qualification, name)
        if old != value:
            changes[name] = {"old": old.isoformat() if isinstance(old, date) else old,
                             "new": value.isoformat() if isinstance(value, date) else value}
            setattr(qualification, name, value)
    qualification.updated_at = utcnow()
    session.add(qualification)
    session.flush()
    record_event(session=session, action="user.qualification_update", target_type="user",
                 target_id=str(qualification.user_id), actor=actor,
                 changes={"qualification_id": qualification.id, **changes})
    return qualification


def _public(row: AssessorQualification) -> dict[str, Any]:
    return {"certificate_number": row.certificate_number, "issuer": row.issuer,
            "valid_until": row.valid_until.isoformat(), "note": row.note}


def qualifications_of(session: Session, user: User) -> list[AssessorQualification]:
    """A user's certificates, the one valid longest first (a person holds a handful)."""
    stmt = select(AssessorQualification).where(AssessorQualification.user_id == user.id)
    return list(session.exec(stmt.order_by(AssessorQualification.valid_until.desc(),  # type: ignore[attr-defined]
                                           AssessorQualification.id.desc())))  # type: ignore[union-attr]


def valid_until(session: Session, user: User) -> date | None:
    """The last day the user's newest certificate is valid, or None without any."""
    return session.exec(select(func.max(AssessorQualification.valid_until))
                        .where(AssessorQualification.user_id == user.id)).one()


def signing_refusal(session: Session, user: User, *, today: date, required: bool) -> tuple[str, Any] | None:
    """Why the user may not sign as an assessor today: (code, lazy Chinese message), or None."""
    until = valid_until(session, user)
    if until is None:
        if not required:
            return None
        return "qualification_missing", N_("您还没有登记评估员资格证书，不能签名。请联系管理员在“用户”页面登记您的证书。")
    if until < today:
        return "qualification_expired", _l("您的评估员资格证书已于 %(date)s 过期，不能签名。请联系管理员登记新的证书。",
                                           date=until.isoformat())
    return None


def expiring(session: Session, organisation_ids: list[int], params: PageParams, *, today: date,
             within_days: int) -> tuple[Page, tuple[int, bool]]:
    """Active assessors whose newest certificate expired or expires within `within_days`: the
    earliest first, keyset-paged, each row (qualification, user)."""
    newer = aliased(AssessorQualification)
    stmt = (select(AssessorQualification, User).join(User, User.id == AssessorQualification.user_id)  # type: ignore[arg-type]
            .where(User.organisation_id.in_(organisation_ids), User.is_active,  # type: ignore[attr-defined]
                   User.roles.contains("assessor"),  # type: ignore[attr-defined]
                   AssessorQualification.valid_until <= today + timedelta(days=within_days),
                   ~exists().where(and_(newer.user_id == AssessorQualification.user_id, or_(
                       newer.valid_until > AssessorQualification.valid_until,
                       and_(newer.valid_until == AssessorQualification.valid_until,
                            newer.id > AssessorQualification.id))))))
    page = paginate(session, stmt, [Sort(AssessorQualification.valid_until), Sort(AssessorQualification.id)],
                    key=lambda row: (row[0].valid_until, row[0].id), params=params)
    return page, capped_count(session, stmt)
