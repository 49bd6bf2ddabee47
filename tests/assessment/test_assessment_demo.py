"""The demo seed gives a newcomer a populated system: results, due and overdue, an entitlement table."""

from __future__ import annotations

from sqlmodel import select

from accounts.cli import seed_accounts
from assessment import queries
from assessment.demo import PEOPLE, demo_id_number, seed_demo
from assessment.idnumber import id_number_problems
from assessment.models import Assessment
from tests.conftest import TEST_PASSWORD


def test_demo_ids_are_valid():
    for serial, (_name, gender, birth, *_rest) in enumerate(PEOPLE, start=1):
        assert id_number_problems(demo_id_number(birth, serial, gender), birth_date=birth) == []


def test_demo_seed(app, db_session):
    with app.app_context():
        context, created = seed_accounts(db_session, TEST_PASSWORD)
        assert created
        seed_demo(session=db_session, context=context)
        assessor = context.users["assessor1"]
        rows = db_session.exec(select(Assessment)).all()
        assert sorted(a.status for a in rows) == ["approved", "approved", "approved", "draft", "submitted"]
        soon, overdue = queries.reassessment_due(db_session, assessor)
        assert len(soon) == 1 and len(overdue) == 1
        locked = next(a for a in rows if a.status == "approved")
        assert queries.entitlement_for(db_session, locked) is not None
        assert queries.search_elders(db_session, context.users["other_assessor"], "") == []
