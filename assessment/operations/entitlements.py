"""Writes for the entitlement table: services and monthly subsidy per care level."""

from __future__ import annotations

from sqlmodel import Session, select

from accounts.models import Organisation, User
from assessment.models import (
    Entitlement,
)
from assessment.operations.errors import AssessmentError
from audit import record_event
from core.i18n import N_


def set_entitlement(*, session: Session, actor: User, organisation: Organisation, instrument_id: str,
                    level_code: int, services: list[str], monthly_subsidy_fen: int, note: str = "") -> Entitlement:
    """Create or replace one row of an organisation's level → services and subsidy table."""
    if monthly_subsidy_fen < 0:
        raise AssessmentError(N_("补贴金额不能为负数。"), errors=[{"item": "monthly_subsidy", "message": N_("不能为负数")}])
    row = session.exec(select(Entitlement).where(
        Entitlement.organisation_id == organisation.id, Entitlement.instrument_id == instrument_id,
        Entitlement.level_code == level_code)).first()
    if row is None:
        row = Entitlement(organisation_id=organisation.id or 0, instrument_id=instrument_id,
                          level_code=level_code)
    row.services = [s.strip() for s in services if s.strip()]
    row.monthly_subsidy_fen = monthly_subsidy_fen
    row.note = note.strip()[:300]
    session.add(row)
    session.flush()
    record_event(session=session, action="entitlement.set", target=row, actor=actor,
                 changes={"level": level_code, "services": row.services, "subsidy_fen": monthly_subsidy_fen})
    return row

