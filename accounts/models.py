"""Organisations form a tree (province → city → district → street → community; an agency is an
organisation too). Users hold one or more roles and belong to one organisation."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import PrivateAttr
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from core.i18n import N_
from core.timeutil import utcnow

ORG_KINDS = {
    "bureau": N_("民政局"),
    "province": N_("省"),
    "city": N_("市"),
    "district": N_("区/县"),
    "street": N_("街道/乡镇"),
    "community": N_("社区/村"),
    "agency": N_("第三方评估机构"),
    "operator": N_("服务机构运营方"),
}

ROLE_LABELS = {
    "admin": N_("管理员"),
    "assessor": N_("评估员"),
    "reviewer": N_("审核员"),
    "inspector": N_("检查员"),
    "operator": N_("机构运营方"),  # a care facility's own account: submits rectification evidence
}


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    # Materialised path "/1/4/9/": a subtree is every row whose path starts with this one's.
    path: str = Field(default="/", max_length=400, index=True)
    reassessment_months: int = Field(default=12)
    created_at: datetime = Field(default_factory=utcnow)
    is_active: bool = Field(default=True)  # deactivated, never deleted: its records stay
    version: int = Field(default=1)


# One level of the tree in name order (accounts.tree): children of a parent by (name, id).
Index("ix_organisation_parent_name", Organisation.parent_id, Organisation.name, Organisation.id)


class OrganisationContract(SQLModel, table=True):
    """A third-party agency's contract over an area: while it runs, the agency's people see and
    assess the records of that organisation's subtree as if it were their own."""

    __tablename__ = "organisation_contract"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="organisation.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    valid_from: date
    valid_until: date | None = None
    ended_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    display_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    roles: str = Field(default="", max_length=200)  # space separated, see ROLE_LABELS
    is_active: bool = Field(default=True)
    password_changed_at: datetime = Field(default_factory=utcnow)
    # Set by an administrator's password reset: the user changes it before doing anything else.
    must_change_password: bool = Field(default=False)
    version: int = Field(default=1)  # two administrators editing the same user: core.db.bump_version
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Notifications: where reminders go. Channels: space separated of email, bot (in-app always).
    email: str = Field(default="", max_length=200)
    notify_channels: str = Field(default="email", max_length=60)
    bot_url: str = Field(default="", max_length=500)

    # Flask-Login protocol; get_id is the login-session token, set at login.
    _session_token: str | None = PrivateAttr(default=None)

    @property
    def role_set(self) -> set[str]:
        return set(self.roles.split())

    def has_role(self, role: str) -> bool:
        return role in self.role_set

    def has_any_role(self, roles: tuple[str, ...] | list[str] | set[str]) -> bool:
        return bool(self.role_set & set(roles))

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self._session_token

    def bind_login_session(self, token: str) -> None:
        self._session_token = token

    @property
    def api_token_id(self) -> int | None:
        """The API token that authenticated this request, if one did."""
        return getattr(self, "_api_token_id", None)

    def bind_api_token(self, token_id: int | None) -> None:
        self._api_token_id = token_id


class LoginSession(SQLModel, table=True):
    """A server-side record of one browser login: logout or a password change ends it, so a
    replayed cookie stops working."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    client_address: str | None = Field(default=None, max_length=64)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None  # refreshed at most once a minute; idle tokens end
    client_address: str | None = Field(default=None, max_length=64)


class AssessorQualification(SQLModel, table=True):
    """An assessor's certificate (评估员资格证书). Only the newest one counts at signing: an
    assessor whose newest certificate expired cannot sign (accounts.qualifications)."""

    __tablename__ = "assessor_qualification"
    __table_args__ = (Index("ix_assessor_qualification_user_valid", "user_id", "valid_until"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    certificate_number: str = Field(max_length=100)
    issuer: str = Field(max_length=200)
    valid_until: date = Field(index=True)
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)
