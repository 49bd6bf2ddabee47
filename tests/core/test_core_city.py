"""`yiyang demo --elders N`: the bulk-filled city is consistent (audit chain, current state,
proportions). `make test` fills a small city; YIYANG_TEST_SCALE=5000 runs the same checks larger."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from assessment.models import Assessment, Elder
from audit.operations import verify_chain
from rating.models import CorrectiveAction, Facility, Inspection

SIZE = int(os.environ.get("YIYANG_TEST_SCALE", "60"))


@pytest.mark.scale
def test_filled_city_is_consistent(app, db_session):
    from accounts.cli import run_domain_seeders, seed_accounts
    from assessment.demo import PEOPLE
    from assessment.state import rebuild_states as elder_drift
    from core.city import fill_city
    from rating.state import rebuild_states as facility_drift
    from tests.factories import TEST_PASSWORD

    with app.app_context():
        context, created = seed_accounts(db_session, TEST_PASSWORD)
        assert created
        run_domain_seeders(db_session, context)
        counts = fill_city(db_session, context, SIZE)
        db_session.expire_all()
        assert counts["elders"] == SIZE
        assert db_session.scalar(select(func.count()).select_from(Elder)) == SIZE + len(PEOPLE)  # and the demo elders
        assessments = db_session.scalar(select(func.count()).select_from(Assessment))
        assert 2 * SIZE <= assessments <= 5 * SIZE
        statuses = dict(db_session.execute(select(Assessment.status, func.count()).group_by(Assessment.status)).all())
        assert statuses["approved"] > assessments * 0.6
        unlevelled = select(func.count()).select_from(Assessment).where(  # the statistics' level column
            Assessment.status == "approved", Assessment.level_code.is_(None))
        assert db_session.scalar(unlevelled) == 0
        assert db_session.scalar(select(func.count()).select_from(Facility)) >= max(1, SIZE * 5 // 1000)
        assert db_session.scalar(select(func.count()).select_from(Inspection)) >= max(1, SIZE * 20 // 1000)
        assert db_session.scalar(select(func.count()).select_from(CorrectiveAction)) >= max(1, SIZE * 100 // 1000)
        ok, broken, checked = verify_chain(db_session)
        assert ok, broken
        assert checked >= SIZE * 5
        assert list(elder_drift(db_session, fix=False)) == []
        assert list(facility_drift(db_session, fix=False)) == []
        again = fill_city(db_session, context, 3)  # a second fill appends after the first
        assert again["first_elder_id"] > counts["first_elder_id"] and verify_chain(db_session)[0]
