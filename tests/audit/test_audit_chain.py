from sqlalchemy import text

from audit import record_event
from audit.operations import verify_chain


def test_chain_verifies_and_detects_an_edited_row(db_session):
    for n in range(3):
        record_event(session=db_session, action="test.event", target_type="thing", target_id=n,
                     changes={"id_number": "11010519491231002X", "n": n})
    ok, broken, checked = verify_chain(db_session)
    assert ok and broken is None and checked >= 3
    rows = db_session.execute(text("SELECT id, changes FROM audit_event ORDER BY id DESC LIMIT 1")).all()
    assert "1949" not in str(rows[0][1])  # sensitive values are masked
    db_session.execute(text("UPDATE audit_event SET action='tampered' WHERE id=:id"), {"id": rows[0][0]})
    db_session.expire_all()
    ok, broken, _ = verify_chain(db_session)
    assert not ok and broken == rows[0][0]
