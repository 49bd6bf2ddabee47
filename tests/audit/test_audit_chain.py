"""The audit chain: masked values, append-only at the database, tamper detection."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit import record_event
from audit.operations import verify_chain


def _events(db_session, count=3):
    return [
        record_event(session=db_session, action="test.event", target_type="thing", target_id=n,
                     changes={"id_number": "11010519491231002X", "n": n})
        for n in range(count)
    ]


def _lift_guard(db_session):
    """What an attacker with direct database access would have to do first."""
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    else:
        db_session.execute(text("DROP TRIGGER audit_event_no_update"))
        db_session.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_sensitive_values_are_masked(db_session):
    event = _events(db_session, 1)[0]
    assert event.changes == {"id_number": "***", "n": 0}


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action='x'", "DELETE FROM audit_event"])
def test_database_refuses_update_and_delete(db_session, statement):
    _events(db_session, 1)
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text(statement))


def test_chain_verifies_and_reports_the_first_broken_link(db_session):
    events = _events(db_session)
    ok, broken, checked = verify_chain(db_session)
    assert ok and broken is None and checked >= 3
    _lift_guard(db_session)
    db_session.execute(text("UPDATE audit_event SET action='tampered' WHERE id=:id"), {"id": events[1].id})
    db_session.expire_all()
    ok, broken, _ = verify_chain(db_session)
    assert not ok and broken == events[1].id


def test_a_deleted_row_breaks_the_chain(db_session):
    events = _events(db_session)
    _lift_guard(db_session)
    db_session.execute(text("DELETE FROM audit_event WHERE id=:id"), {"id": events[1].id})
    db_session.expire_all()
    ok, broken, _ = verify_chain(db_session)
    assert not ok and broken == events[2].id
