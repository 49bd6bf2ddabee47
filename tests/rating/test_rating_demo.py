"""The demo data: graded facilities, open and overdue actions, issued certificates."""

from __future__ import annotations

from sqlmodel import select

from accounts.cli import seed_accounts
from rating.demo import seed_demo
from rating.models import Certificate, CorrectiveAction, Facility, Grade
from rating.operations import is_overdue


def test_demo_data(app, db_session):
    context, created = seed_accounts(db_session, "Demo-Password-1")
    assert created
    # `yiyang demo` runs seeders inside the app context; scripts and tests may not
    seed_demo(session=db_session, context=context)
    grades = db_session.exec(select(Grade).where(Grade.code > 0)).all()
    assert {g.label for g in grades} >= {"五级", "四级", "五星级"}
    actions = db_session.exec(select(CorrectiveAction)).all()
    assert any(is_overdue(a) for a in actions) and any(a.status == "open" and not is_overdue(a) for a in actions)
    assert len(db_session.exec(select(Certificate)).all()) == 3
    assert db_session.exec(select(Facility)).all()
