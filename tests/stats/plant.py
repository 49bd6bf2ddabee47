"""Records planted straight into the tables for the inbox and statistics tests: each helper
writes exactly the rows it is asked for, so a test knows every expected count."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from assessment.counts import count_approval, move_elder_counts
from assessment.models import Assessment, AssessmentSignature, Elder, ElderState, Entitlement
from core.timeutil import utcnow
from rating.models import CorrectiveAction, Facility, FacilityState, Inspection
from tests.factories import current_session

_serial = itertools.count(1)


def elder(org: Any, *, level: int | None = None, due: date | None = None, open_id: int | None = None,
          name: str = "") -> Elder:
    session = current_session()
    n = next(_serial)
    row = Elder(organisation_id=org.id, name=name or f"老人{n}", gender="female", birth_date=date(1940, 1, 1),
                id_number_enc="x", id_number_hash=f"hash-{n}-{org.id}", id_number_masked="1101**********0001")
    session.add(row)
    session.flush()
    fields = {"organisation_id": org.id, "level_code": level, "level_label": None if level is None else f"等级{level}",
              "next_due_on": due, "open_assessment_id": open_id,
              "instrument_id": "gbt42195-2022" if level is not None else None}
    session.add(ElderState(elder_id=row.id, **fields))
    session.flush()
    move_elder_counts(session, None, fields)  # as core.state.refresh does: the statistics read the counters
    return row


def assessment(org: Any, *, status: str = "approved", level: int | None = 1, approved_at: datetime | None = None,
               creator: Any = None, elder_row: Elder | None = None, superseded: bool = False) -> Assessment:
    session = current_session()
    target = elder_row or elder(org)
    row = Assessment(organisation_id=org.id, elder_id=target.id, instrument_id="gbt42195-2022",
                     instrument_version="1", reason="initial", status=status,
                     result=None if status == "draft" or level is None else {"level": {"code": level, "label": "x"}},
                     approved_at=approved_at if status == "approved" else None,
                     created_by_id=getattr(creator, "id", None), submitted_by_id=None)
    session.add(row)
    session.flush()
    if superseded:
        newer = Assessment(organisation_id=org.id, elder_id=target.id, instrument_id="gbt42195-2022",
                           instrument_version="1", reason="initial", status="draft", amends_id=row.id)
        session.add(newer)
        session.flush()
        row.superseded_by_id = newer.id
        session.add(row)
        session.flush()
    elif row.status == "approved":
        count_approval(session, row)  # as the approval does: the statistics read the counter
    return row


def signature(assessment_row: Assessment, user: Any) -> None:
    session = current_session()
    session.add(AssessmentSignature(assessment_id=assessment_row.id, user_id=user.id, role="assessor",
                                    answers_hash="h"))
    session.flush()


def facility(org: Any, *, grade: int | None = None, valid_until: date | None = None, name: str = "") -> Facility:
    session = current_session()
    row = Facility(organisation_id=org.id, name=name or f"机构{next(_serial)}", kind="institution")
    session.add(row)
    session.flush()
    session.add(FacilityState(facility_id=row.id, organisation_id=org.id, grade_code=grade,
                              grade_label=None if grade is None else f"{grade} 级", grade_valid_until=valid_until))
    session.flush()
    return row


def inspection(facility_row: Facility, *, status: str = "planned") -> Inspection:
    session = current_session()
    row = Inspection(organisation_id=facility_row.organisation_id, facility_id=facility_row.id,
                     scheme="gbt37276-2018", scheme_version="1", status=status)
    session.add(row)
    session.flush()
    return row


def action(facility_row: Facility, *, status: str = "open", due_at: datetime | None = None,
           created_at: datetime | None = None, verified_at: datetime | None = None,
           inspection_row: Inspection | None = None) -> CorrectiveAction:
    session = current_session()
    parent = inspection_row or inspection(facility_row, status="approved")
    row = CorrectiveAction(organisation_id=facility_row.organisation_id, facility_id=facility_row.id,
                           inspection_id=parent.id, description="灭火器过期", severity="major",
                           due_at=due_at or utcnow() + timedelta(days=30), status=status,
                           created_at=created_at or utcnow(), verified_at=verified_at)
    session.add(row)
    session.flush()
    return row


def entitlement(org: Any, level: int, fen: int) -> Entitlement:
    session = current_session()
    row = Entitlement(organisation_id=org.id, instrument_id="gbt42195-2022", level_code=level,
                      monthly_subsidy_fen=fen)
    session.add(row)
    session.flush()
    return row
