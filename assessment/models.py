"""Elders (with their sensitive fields encrypted), assessments, signatures and entitlements.

Sensitive values (citizen ID number, phone numbers) are stored as ciphertext next to a keyed
hash for exact lookup and duplicate detection, and a masked form for lists and search.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, event
from sqlalchemy import text as sa_text
from sqlmodel import Field, SQLModel

from core.i18n import N_
from core.timeutil import utcnow

GENDERS = {"male": N_("男"), "female": N_("女")}
LEGAL_BASES = {"statutory": N_("履行法定职责"), "consent": N_("本人或监护人同意")}
REASONS = {
    "initial": N_("首次评估"),
    "routine": N_("常规评估"),
    "immediate": N_("即时评估"),
    "review": N_("复评"),
}
STATUSES = {
    "draft": N_("草稿"),
    "submitted": N_("已提交"),
    "signed": N_("评估员已签名"),
    "approved": N_("已审核锁定"),
}
LOCKED_STATUSES = ("approved",)
OPEN_ASSESSMENT = "status <> 'approved' AND amends_id IS NULL"


class Elder(SQLModel, table=True):
    __tablename__ = "elder"
    __table_args__ = (UniqueConstraint("organisation_id", "id_number_hash", name="uq_elder_org_id_number"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=100, index=True)
    gender: str = Field(max_length=8)
    birth_date: date
    id_number_enc: str = Field(max_length=200)
    id_number_hash: str = Field(max_length=64, index=True)
    id_number_masked: str = Field(max_length=32, index=True)
    phone_enc: str | None = Field(default=None, max_length=200)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_masked: str | None = Field(default=None, max_length=32)
    address: str = Field(default="", max_length=300)
    community: str = Field(default="", max_length=120)
    contact_name: str = Field(default="", max_length=100)
    contact_phone_enc: str | None = Field(default=None, max_length=200)
    contact_phone_masked: str | None = Field(default=None, max_length=32)
    # Where the elder lives, when known (WGS 84, as a tablet's location reports it): lets the
    # reviewer see a visit recorded far from the address. Optional; nothing else needs it.
    latitude: float | None = None
    longitude: float | None = None
    legal_basis: str = Field(default="statutory", max_length=16)
    consent_by: str = Field(default="", max_length=100)
    consent_at: date | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)  # optimistic lock for edits


class ElderNameGram(SQLModel, table=True):
    """Each character and each pair of neighbouring characters of an elder's name (lower case),
    one row each, with the name and the elder's organisation: a one- or two-character search
    (`王`, `秀英`) reads the primary key (gram, name, elder_id) in the elder list's own order and
    stops after one page, however common the character; a district's search and its count read
    (gram, organisation_id, name, elder_id) instead of skipping the other districts' elders
    (assessment.names; written with the name and the organisation, rebuilt by repair-state)."""

    __tablename__ = "elder_name_gram"
    __table_args__ = (Index("ix_elder_name_gram_org", "gram", "organisation_id", "name", "elder_id"),)

    gram: str = Field(primary_key=True, max_length=2)
    name: str = Field(primary_key=True, max_length=100)
    elder_id: int = Field(primary_key=True, foreign_key="elder.id", index=True)
    organisation_id: int  # the elder's (a copy, kept with it: no foreign key of its own)


class Assessment(SQLModel, table=True):
    """One version of one assessment. An amendment is a new row pointing at the one it amends.

    The database keeps two things one of a kind: one amendment per version (a second concurrent
    "amend" fails on the unique index), and one open (not yet approved) assessment per elder and
    instrument outside amendments (a double tap on "开始评估" opens the existing one)."""

    __tablename__ = "assessment"
    __table_args__ = (
        Index("uq_assessment_one_amendment", "amends_id", unique=True),
        Index("uq_assessment_one_open", "elder_id", "instrument_id", unique=True,
              sqlite_where=sa_text(OPEN_ASSESSMENT), postgresql_where=sa_text(OPEN_ASSESSMENT)),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    elder_id: int = Field(foreign_key="elder.id", index=True)
    instrument_id: str = Field(max_length=64)
    instrument_version: str = Field(max_length=32)
    reason: str = Field(max_length=16)
    status: str = Field(default="draft", max_length=16, index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    answers_hash: str | None = Field(default=None, max_length=64)
    # Optimistic locking: every write checks and bumps it; a stale writer gets a conflict.
    version: int = Field(default=1)
    current_section: str | None = Field(default=None, max_length=64)
    place: str = Field(default="", max_length=200)
    submit_token: str | None = Field(default=None, max_length=64)
    revision: int = Field(default=1)
    amends_id: int | None = Field(default=None, foreign_key="assessment.id", index=True)
    amendment_reason: str | None = Field(default=None, max_length=1000)
    superseded_by_id: int | None = Field(default=None, foreign_key="assessment.id")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    reviewer_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    # The final level's code, copied from `result` whenever a row is written (see
    # _copy_level_code below): statistics group by it in SQL without reading the JSON.
    level_code: int | None = None

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status == "draft"


class AssessmentSignature(SQLModel, table=True):
    """A signature by an assessor or the reviewer, bound to the hash of the answers signed."""

    __tablename__ = "assessment_signature"
    # (user_id, assessment_id): what one person signed, for the inbox's "waiting for my signature"
    # (assessment.lists), which otherwise reads every signature of the province (migration 0750)
    __table_args__ = (UniqueConstraint("assessment_id", "user_id", name="uq_signature_once"),
                      Index("ix_assessment_signature_user", "user_id", "assessment_id"))

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    role: str = Field(max_length=16)  # assessor | reviewer
    answers_hash: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=utcnow)


class AssessmentPhoto(SQLModel, table=True):
    """A photo taken for one item of an assessment (core.photos: cleaned, kept in core.storage
    under assessment_photos/ORG/); added and removed only while the assessment is a draft."""

    __tablename__ = "assessment_photo"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    item_id: str = Field(max_length=64)
    stored_name: str = Field(max_length=120)
    content_type: str = Field(max_length=64)
    size: int = Field(default=0)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def storage_key(self) -> str:
        return f"assessment_photos/{self.organisation_id}/{self.stored_name}"


LOCATION_STATUSES = {
    "granted": N_("已记录位置"),
    "denied": N_("评估员未允许定位"),
    "unavailable": N_("设备无法定位"),
    "unsupported": N_("设备不支持定位"),
    "": N_("未记录位置"),
}


class AssessmentVisit(SQLModel, table=True):
    """One visit's record from one device (static/js/visit.js), like ODK's form audit: when the
    form was first and last worked on, the seconds spent on each section, and where the device
    was at the start and at the end of the visit when the assessor allowed it (a refusal is
    recorded as such, it is no error). The device
    names the visit (`client_id`) and always sends its totals, so a resend changes nothing;
    assessment.visits adds a record's visits up for the reviewer."""

    __tablename__ = "assessment_visit"
    __table_args__ = (UniqueConstraint("assessment_id", "client_id", name="uq_assessment_visit_client"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    client_id: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    started_at: datetime
    ended_at: datetime
    section_seconds: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    location_status: str = Field(default="", max_length=16)
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    located_at: datetime | None = None
    # Where the device was at the end of the visit (the last page it opened), kept like the start.
    end_location_status: str = Field(default="", max_length=16)
    end_latitude: float | None = None
    end_longitude: float | None = None
    end_accuracy_m: float | None = None
    end_located_at: datetime | None = None
    received_at: datetime = Field(default_factory=utcnow)


DRAWN_ROLES = {
    "elder": N_("老年人"),
    "guardian": N_("代理人（监护人）"),
    "assessor": N_("评估员"),
    "reviewer": N_("审核人"),
}


class DrawnSignature(SQLModel, table=True):
    """A signature drawn on the tablet (PNG in core.storage), bound like AssessmentSignature to
    the hash of the answers it was drawn over: when an answer changes, it is void and is not
    printed. The elder's or guardian's mark is their signature; an assessor's or the reviewer's
    is only the visible mark of their password signature and is kept with it (docs/assessment.md).
    One per signer (`signer_key`: elder, guardian or user:ID); drawing again replaces it."""

    __tablename__ = "assessment_drawn_signature"
    __table_args__ = (UniqueConstraint("assessment_id", "signer_key", name="uq_drawn_signature_signer"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    signer_key: str = Field(max_length=32)
    role: str = Field(max_length=16)  # elder | guardian | assessor | reviewer
    signer_name: str = Field(default="", max_length=100)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    stored_name: str = Field(max_length=120)
    answers_hash: str = Field(max_length=64)
    drawn_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    drawn_at: datetime = Field(default_factory=utcnow)

    @property
    def storage_key(self) -> str:
        return f"assessment_signatures/{self.organisation_id}/{self.stored_name}"


class Entitlement(SQLModel, table=True):
    """What a care level entitles a person to in one organisation: services and a subsidy."""

    __tablename__ = "entitlement"
    __table_args__ = (
        UniqueConstraint("organisation_id", "instrument_id", "level_code", name="uq_entitlement_level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    instrument_id: str = Field(max_length=64)
    level_code: int
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    monthly_subsidy_fen: int = Field(default=0)  # money in fen (分): no float rounding
    note: str = Field(default="", max_length=300)


class ElderState(SQLModel, table=True):
    """Each elder's current state, kept by assessment.state.refresh_elder_state in the same
    transaction as every change that moves it; `yiyang repair-state` rebuilds it from history."""

    __tablename__ = "elder_state"

    elder_id: int = Field(primary_key=True, foreign_key="elder.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    latest_assessment_id: int | None = Field(default=None, foreign_key="assessment.id")
    instrument_id: str | None = Field(default=None, max_length=64)
    level_code: int | None = None
    level_label: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
    next_due_on: date | None = None
    open_assessment_id: int | None = Field(default=None, foreign_key="assessment.id")
    assessment_count: int = Field(default=0)



NO_LEVEL = -1  # AssessmentDayCount.level_code of approved assessments without a level (a key is never NULL)


class AssessmentDayCount(SQLModel, table=True):
    """Current approved assessments (approved, not superseded by an amendment) per organisation,
    day of approval in the organisation's time zone and final level: the statistics read these
    instead of counting assessments. Kept by assessment.counts in the transaction of the approval
    that moves them; `yiyang repair-state` rebuilds them from history."""

    __tablename__ = "stats_assessment_day"

    organisation_id: int = Field(primary_key=True, foreign_key="organisation.id")
    approved_on: date = Field(primary_key=True)
    level_code: int = Field(primary_key=True)  # NO_LEVEL when the assessment has none
    count: int = Field(default=0)

class ElderLevelCount(SQLModel, table=True):
    """Elders per organisation, instrument and current level (elder_state rows with a level): the
    statistics' "levels now" and "entitlements" read these few rows. Moved by assessment.counts
    whenever core.state.refresh changes an elder_state row; `yiyang repair-state` rebuilds them."""

    __tablename__ = "stats_elder_level"

    organisation_id: int = Field(primary_key=True, foreign_key="organisation.id")
    instrument_id: str = Field(primary_key=True, max_length=64)
    level_code: int = Field(primary_key=True)
    count: int = Field(default=0)


class ElderDueCount(SQLModel, table=True):
    """Elders per organisation and month of their next due date, among those with no assessment
    under way (elder_state's due rows): the statistics sum the months before this one and count
    only the current window from elder_state. Moved and rebuilt like ElderLevelCount."""

    __tablename__ = "stats_elder_due"

    organisation_id: int = Field(primary_key=True, foreign_key="organisation.id")
    due_month: date = Field(primary_key=True)  # the first day of the month
    count: int = Field(default=0)


# Indexes of the lists (core.paging): organisation + sort key, partial where only open or due
# rows matter. Declared here, after the tables, and created by migration 0300_scale_indexes.
_DUE_ROWS = sa_text("open_assessment_id IS NULL AND next_due_on IS NOT NULL")
Index("ix_elder_state_due", ElderState.next_due_on, ElderState.elder_id,
      postgresql_where=_DUE_ROWS, sqlite_where=_DUE_ROWS)
# Partial like ix_elder_state_due (migration 0740): the due lists and the statistics' current-month
# window read only due rows, and the window's count is then an index-only scan.
Index("ix_elder_state_org_due", ElderState.organisation_id, ElderState.next_due_on, ElderState.elder_id,
      postgresql_where=_DUE_ROWS, sqlite_where=_DUE_ROWS)
Index("ix_elder_state_level", ElderState.organisation_id, ElderState.level_code, ElderState.elder_id)
Index("ix_elder_org_name", Elder.organisation_id, Elder.name, Elder.id)
Index("ix_elder_org_community", Elder.organisation_id, Elder.community, Elder.id)
# Trigram search on names (PostgreSQL with pg_trgm; a plain index where the extension is missing).
Index("ix_elder_name_trgm", Elder.name, postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"})
Index("ix_assessment_updated", Assessment.updated_at, Assessment.id)
Index("ix_assessment_org_updated", Assessment.organisation_id, Assessment.updated_at, Assessment.id)
Index("ix_assessment_elder_created", Assessment.elder_id, Assessment.created_at, Assessment.id)
Index("ix_assessment_status_updated", Assessment.status, Assessment.updated_at, Assessment.id)
_OPEN_ASSESSMENTS = sa_text("status <> 'approved'")
Index("ix_assessment_open", Assessment.organisation_id, Assessment.updated_at, Assessment.id,
      postgresql_where=_OPEN_ASSESSMENTS, sqlite_where=_OPEN_ASSESSMENTS)
# Statistics (stats/): current approved versions counted by organisation, month of approval and
# level, read from this index alone (migration 0510_stats_assessment_level).
_CURRENT_APPROVED = sa_text("status = 'approved' AND superseded_by_id IS NULL")
Index("ix_assessment_approved_current", Assessment.organisation_id, Assessment.approved_at, Assessment.level_code,
      postgresql_where=_CURRENT_APPROVED, sqlite_where=_CURRENT_APPROVED)
# The inbox: an assessor's own drafts (created_by_id, status).
Index("ix_assessment_creator_status", Assessment.created_by_id, Assessment.status, Assessment.updated_at)


def level_code_of(result: dict[str, Any] | None) -> int | None:
    """The final level's code in a stored result, or None (no result, or no numeric level)."""
    code = ((result or {}).get("level") or {}).get("code")
    return int(code) if isinstance(code, int | float) and not isinstance(code, bool) else None


@event.listens_for(Assessment, "before_insert")
@event.listens_for(Assessment, "before_update")
def _copy_level_code(_mapper: Any, _connection: Any, target: Assessment) -> None:
    """Keep `level_code` equal to the result's level on every ORM write, whoever writes it."""
    target.level_code = level_code_of(target.result)
