"""Writes for the facility registry, and the facts the system knows about a facility."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from audit import record_event
from core.db import bump_version
from core.errors import DomainError
from core.i18n import N_
from core.timeutil import utcnow
from core.workflow import Refusal
from rating.models import FACILITY_KINDS, FILING_STATUSES, Facility, Grade
from rating.state import refresh_facility_state
from scoring import Definition


class RatingError(DomainError, ValueError):
    """A rating step refused; `errors` lists every problem as {"item", "message"}."""

    def __init__(self, errors: list[dict[str, Any]] | str, status: int = 422) -> None:
        if not isinstance(errors, list):  # one message: a msgid or a lazy string
            errors = [{"item": None, "message": errors}]
        DomainError.__init__(self, None, status=status, code="conflict" if status == 409 else "invalid_input",
                             errors=errors)


def refused(refusal: Refusal) -> RatingError:
    """A step the rating workflows do not allow now (see rating.workflow)."""
    return RatingError([{"item": None, "message": refusal.message}], status=refusal.status)


FACILITY_FIELDS = ("name", "kind", "district", "address", "beds", "operator", "filing_status",
                   "opened_on", "operator_organisation_id")


MAX_BEDS = 100_000  # the largest care home in China has a few thousand


def check_facility(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem with facility fields, at once."""
    errors: list[dict[str, Any]] = []
    for name in ("name", "district", "address", "operator"):
        if data.get(name) is not None and not isinstance(data[name], str):
            errors.append({"item": name, "message": N_("应为文字")})
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        errors.append({"item": "name", "message": N_("请填写机构名称")})
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in FACILITY_KINDS:
        errors.append({"item": "kind", "message": N_("机构类型应为 institution / community_center / station")})
    filing = data.get("filing_status", "filed")
    if not isinstance(filing, str) or filing not in FILING_STATUSES:
        errors.append({"item": "filing_status", "message": N_("备案状态应为 filed 或 not_filed")})
    beds = data.get("beds", 0)
    if beds is None:
        beds = 0
    if isinstance(beds, bool) or not isinstance(beds, int) or not 0 <= beds <= MAX_BEDS:
        errors.append({"item": "beds", "message": _l("床位数应为 0 到 %(max)s 的整数", max=MAX_BEDS)})
    opened = data.get("opened_on")
    if opened is not None and not isinstance(opened, date):
        errors.append({"item": "opened_on", "message": N_("开业日期格式应为 YYYY-MM-DD")})
    elif isinstance(opened, date) and opened > utcnow().date():
        errors.append({"item": "opened_on", "message": N_("开业日期不能晚于今天")})
    return errors


def create_facility(*, session: Session, actor: Any, organisation_id: int, data: dict[str, Any]) -> Facility:
    """Register a facility under an organisation (an active one)."""
    from accounts.organisations import inactive_problem

    errors = check_facility(data)
    inactive = inactive_problem(session, organisation_id)
    if inactive:
        errors.append(inactive)
    if errors:
        raise RatingError(errors)
    facility = Facility(
        organisation_id=organisation_id,
        name=str(data["name"]).strip(),
        kind=data["kind"],
        district=str(data.get("district") or "").strip(),
        address=str(data.get("address") or "").strip(),
        beds=int(data.get("beds") or 0),
        operator=str(data.get("operator") or "").strip(),
        filing_status=data.get("filing_status") or "filed",
        opened_on=data.get("opened_on"),
        operator_organisation_id=data.get("operator_organisation_id"),
    )
    session.add(facility)
    session.flush()
    record_event(session=session, action="rating.facility.create", target=facility, actor=actor,
                 changes={"new": {k: _plain(getattr(facility, k)) for k in FACILITY_FIELDS}})
    refresh_facility_state(session, facility.id)
    return facility


def update_facility(*, session: Session, actor: Any, facility: Facility, data: dict[str, Any],
                    version: int | None = None) -> Facility:
    """Change a facility's registry fields; the audit log keeps old and new values. With
    `version`, an edit that began before somebody else's save raises EditConflict."""
    merged = {k: getattr(facility, k) for k in FACILITY_FIELDS} | data
    errors = check_facility(merged)
    if errors:
        raise RatingError(errors)
    old = {k: _plain(getattr(facility, k)) for k in FACILITY_FIELDS}
    bump_version(session, facility, version)
    for key in FACILITY_FIELDS:
        if key in data:
            value = data[key]
            setattr(facility, key, value.strip() if isinstance(value, str) else value)
    session.add(facility)
    session.flush()
    new = {k: _plain(getattr(facility, k)) for k in FACILITY_FIELDS}
    record_event(session=session, action="rating.facility.update", target=facility, actor=actor,
                 changes={"old": {k: v for k, v in old.items() if new[k] != v},
                          "new": {k: v for k, v in new.items() if old[k] != v}})
    return facility


def disqualify_facility(*, session: Session, actor: Any, facility: Facility, reason: str,
                        now: datetime | None = None) -> Facility:
    """Withdraw the facility's right to provide services (取消服务提供资格)."""
    if facility.is_disqualified:
        return facility
    facility.is_disqualified = True
    facility.disqualified_at = now or utcnow()
    facility.disqualified_reason = reason
    session.add(facility)
    session.flush()
    record_event(session=session, action="rating.facility.disqualify", target=facility, actor=actor,
                 changes={"old": {"is_disqualified": False}, "new": {"is_disqualified": True}},
                 reason=reason)
    return facility


def known_facts(*, session: Session, facility: Facility, definition: Definition, on: date) -> dict[str, Any]:
    """Facts the registry already knows, in the scheme's vocabulary: the vetoes it can tell
    (not filed, operating under a year) and whether this is a first application."""
    codes = definition.veto_codes
    veto: list[str] = []
    if "not_filed" in codes and facility.filing_status != "filed":
        veto.append("not_filed")
    if "operating_under_1y" in codes and facility.opened_on is not None:
        try:
            anniversary = facility.opened_on.replace(year=facility.opened_on.year + 1)
        except ValueError:  # opened on 29 February
            anniversary = facility.opened_on.replace(year=facility.opened_on.year + 1, day=28)
        if on < anniversary:
            veto.append("operating_under_1y")
    earlier = session.exec(
        select(Grade.id).where(Grade.facility_id == facility.id, Grade.scheme == definition.id)
    ).first()
    return {"veto": veto, "first_application": earlier is None}


def merge_facts(auto: dict[str, Any], entered: dict[str, Any]) -> dict[str, Any]:
    """The inspector's facts plus the known ones; vetoes are the union."""
    merged = dict(auto) | dict(entered)
    veto = list(dict.fromkeys([*auto.get("veto", []), *(entered.get("veto") or [])]))
    merged["veto"] = veto
    return merged


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value
