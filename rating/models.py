"""Facilities, inspection plans, inspections, evidence photos, corrective actions, grades and
certificates. Every row carries organisation_id (the facility's supervising organisation), so
scoped queries keep one organisation's records away from another's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy import text as sa_text
from sqlmodel import Field, SQLModel

from core.i18n import N_
from core.timeutil import utcnow

FACILITY_KINDS = {
    "institution": N_("养老机构"),
    "community_center": N_("街道养老服务中心"),
    "station": N_("社区养老服务站"),
}

FILING_STATUSES = {"filed": N_("已登记备案"), "not_filed": N_("未登记备案")}

INSPECTION_STATUSES = {
    "planned": N_("已计划"),
    "in_progress": N_("检查中"),
    "submitted": N_("已提交待审批"),
    "approved": N_("已审批"),
}

ACTION_STATUSES = {
    "open": N_("待整改"),
    "evidence_submitted": N_("已提交整改材料"),
    "closed": N_("已核验关闭"),
    "escalated": N_("逾期已升级"),
}

SEVERITIES = {"critical": N_("严重"), "major": N_("较重"), "minor": N_("轻微")}

CERTIFICATE_STATUSES = {
    "valid": N_("有效"),
    "expired": N_("已过期"),
    "superseded": N_("已被新等级取代"),
    "revoked": N_("已撤销"),
    "not_genuine": N_("非真实证书"),
}


class Facility(SQLModel, table=True):
    """A care facility under supervision: 养老机构, 街道养老服务中心 or 社区养老服务站."""

    __tablename__ = "rating_facility"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    # The operator's own organisation (kind operator): its accounts submit evidence.
    operator_organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    district: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=300)
    beds: int = Field(default=0)
    operator: str = Field(default="", max_length=200)
    filing_status: str = Field(default="filed", max_length=16)
    opened_on: date | None = None
    is_disqualified: bool = Field(default=False)
    disqualified_at: datetime | None = None
    disqualified_reason: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)  # optimistic lock for edits
    created_at: datetime = Field(default_factory=utcnow)


class InspectionPlan(SQLModel, table=True):
    """A round of inspections: the scheme, the targets and the two inspectors (双随机)."""

    __tablename__ = "rating_plan"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    scheme: str = Field(max_length=64)
    method: str = Field(default="manual", max_length=16)  # manual | share | count
    share: float | None = None
    count: int | None = None
    seed: str = Field(default="", max_length=64)  # drawn by the server; shown once the draw is made
    seed_commitment: str = Field(default="", max_length=64)  # SHA-256 of the seed, shown from creation
    drawn_at: datetime | None = None
    candidate_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    target_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    inspector_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    inspector_pool_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_published: bool = Field(default=False)
    published_at: datetime | None = None
    results_published_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class Inspection(SQLModel, table=True):
    """One on-site inspection of one facility under one scheme (pinned to its version)."""

    __tablename__ = "rating_inspection"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    facility_id: int = Field(foreign_key="rating_facility.id", index=True)
    plan_id: int | None = Field(default=None, foreign_key="rating_plan.id", index=True)
    previous_inspection_id: int | None = Field(default=None, foreign_key="rating_inspection.id")
    is_reinspection: bool = Field(default=False)
    scheme: str = Field(max_length=64)
    scheme_version: str = Field(max_length=32)
    status: str = Field(default="in_progress", max_length=16, index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    auto_facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    inspector_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    proposed_grade_code: int | None = None
    is_unqualified: bool = Field(default=False)
    rectification_due_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    approved_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    approved_at: datetime | None = None


class EvidencePhoto(SQLModel, table=True):
    """A photo taken for a checklist item or sent as rectification evidence; the file lives
    under the instance folder, never in a public directory."""

    __tablename__ = "rating_photo"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="rating_inspection.id", index=True)
    action_id: int | None = Field(default=None, foreign_key="rating_action.id", index=True)
    item_id: str = Field(default="", max_length=64)
    stored_name: str = Field(max_length=120)
    content_type: str = Field(max_length=64)
    size: int = Field(default=0)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class CorrectiveAction(SQLModel, table=True):
    """A finding to fix by a deadline: open → evidence submitted → closed, or overdue → escalated."""

    __tablename__ = "rating_action"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    facility_id: int = Field(foreign_key="rating_facility.id", index=True)
    inspection_id: int = Field(foreign_key="rating_inspection.id", index=True)
    item_id: str = Field(default="", max_length=64)
    section: str = Field(default="", max_length=64)
    description: str = Field(max_length=500)
    required_action: str = Field(default="", max_length=500)
    severity: str = Field(max_length=16)
    points_lost: float | None = None
    is_rectification: bool = Field(default=False)  # the whole-result 限期整改 of an unqualified score
    due_at: datetime = Field(index=True)
    status: str = Field(default="open", max_length=24, index=True)
    evidence_note: str | None = Field(default=None, max_length=2000)
    evidence_at: datetime | None = None
    evidence_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    verified_at: datetime | None = None
    verified_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    escalated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Grade(SQLModel, table=True):
    """A grade awarded on approval; a later grade supersedes it."""

    __tablename__ = "rating_grade"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    facility_id: int = Field(foreign_key="rating_facility.id", index=True)
    inspection_id: int = Field(foreign_key="rating_inspection.id", unique=True)
    plan_id: int | None = Field(default=None, foreign_key="rating_plan.id", index=True)
    scheme: str = Field(max_length=64)
    scheme_version: str = Field(max_length=32)
    code: int
    label: str = Field(max_length=64)
    stars: int | None = None
    medal: str | None = Field(default=None, max_length=16)
    awarded_at: datetime = Field(default_factory=utcnow)
    valid_from: date
    valid_until: date
    superseded_by_id: int | None = Field(default=None, foreign_key="rating_grade.id")
    superseded_at: datetime | None = None
    approved_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class Certificate(SQLModel, table=True):
    """A grade certificate: serial number, unguessable verification code, signed payload."""

    __tablename__ = "rating_certificate"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    grade_id: int = Field(foreign_key="rating_grade.id", unique=True)
    facility_id: int = Field(foreign_key="rating_facility.id", index=True)
    serial: str = Field(max_length=40, unique=True)
    code: str = Field(max_length=64, unique=True, index=True)
    payload: str = Field(max_length=2000)
    signature: str = Field(max_length=200)
    issued_on: date
    valid_until: date
    issued_at: datetime = Field(default_factory=utcnow)
    issued_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=500)
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")


REWARD_PERIODS = {"yearly": N_("每年"), "one_off": N_("一次性")}


class GradeReward(SQLModel, table=True):
    """What a grade of one scheme pays in one organisation from `valid_from` on: an operating
    subsidy or reward in fen (分), yearly or once. Facilities of the organisation's subtree
    use the nearest organisation's row (rating.rewards); a new amount from a later date is a
    new row, so the history stays."""

    __tablename__ = "rating_grade_reward"
    __table_args__ = (UniqueConstraint("organisation_id", "scheme", "grade_code", "period", "valid_from",
                                       name="uq_rating_grade_reward"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    scheme: str = Field(max_length=64)
    grade_code: int
    amount_fen: int = Field(default=0)  # money in fen: no float rounding
    period: str = Field(default="yearly", max_length=16)
    note: str = Field(default="", max_length=300)
    valid_from: date
    version: int = Field(default=1)  # optimistic lock for edits
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class FacilityState(SQLModel, table=True):
    """Each facility's current grade and open corrective actions, kept by
    rating.state.refresh_facility_state in the transaction of every change that moves them."""

    __tablename__ = "rating_facility_state"

    facility_id: int = Field(primary_key=True, foreign_key="rating_facility.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    grade_id: int | None = Field(default=None, foreign_key="rating_grade.id")
    grade_code: int | None = None
    grade_label: str | None = Field(default=None, max_length=64)
    grade_valid_until: date | None = None
    open_action_count: int = Field(default=0)
    inspection_count: int = Field(default=0)


# Indexes of the lists (core.paging): organisation + sort key; partial where only open rows matter.
_OPEN_ACTIONS = sa_text("status <> 'closed'")
Index("ix_rating_action_open_due", CorrectiveAction.organisation_id, CorrectiveAction.due_at, CorrectiveAction.id,
      postgresql_where=_OPEN_ACTIONS, sqlite_where=_OPEN_ACTIONS)
Index("ix_rating_action_org_due", CorrectiveAction.organisation_id, CorrectiveAction.due_at, CorrectiveAction.id)
Index("ix_rating_inspection_org_id", Inspection.organisation_id, Inspection.id)
Index("ix_rating_facility_org_name", Facility.organisation_id, Facility.name, Facility.id)
# The public register (rating.register) pages every organisation's facilities by name, or a district's.
Index("ix_rating_facility_name", Facility.name, Facility.id)
Index("ix_rating_facility_district_name", Facility.district, Facility.name, Facility.id)
Index("ix_rating_grade_org_id", Grade.organisation_id, Grade.id)
Index("ix_rating_certificate_org_id", Certificate.organisation_id, Certificate.id)
# Statistics (stats/): actions opened and closed per month, by organisation (migration 0511).
Index("ix_rating_action_org_created", CorrectiveAction.organisation_id, CorrectiveAction.created_at)
Index("ix_rating_action_org_verified", CorrectiveAction.organisation_id, CorrectiveAction.verified_at)
