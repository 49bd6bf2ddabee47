"""The keyed chain and its signed checkpoints: a rewrite (even with every later hash recomputed
by the public digest) and a cut are both detected, and `yiyang audit verify` says which."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from audit import record_event
from audit.chain import (
    DIGEST_FIELDS,
    create_checkpoint,
    event_digest,
    export_record,
    legacy_digest,
    verify,
)
from audit.models import AuditCheckpoint, AuditEvent
from tests.audit.test_audit_chain import _lift_guard


def _events(session, count):
    made = [record_event(session=session, action="test.event", target_type="thing", target_id=n, changes={"n": n})
            for n in range(count)]
    session.flush()
    return made


def _rows(session, after=0):
    return session.exec(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)).all()


def _rechain(session, start_id, digest):
    """What an attacker with the database (and the public digest function) does after editing a
    row: recompute every later link so the plain chain walks clean again."""
    session.expire_all()
    rows = _rows(session)
    prev = ""
    for row in rows:
        if row.id >= start_id:
            values = {name: getattr(row, name) for name in DIGEST_FIELDS} | {"prev_hash": prev}
            new_hash = digest(values)
            session.execute(text("UPDATE audit_event SET prev_hash=:p, hash=:h WHERE id=:id"),
                            {"p": prev, "h": new_hash, "id": row.id})
            prev = new_hash
        else:
            prev = row.hash
    session.expire_all()


def test_rewrite_with_recomputed_public_digests_is_detected(db_session):
    events = _events(db_session, 6)
    assert verify(db_session, full=True).ok
    _lift_guard(db_session)
    db_session.execute(text("UPDATE audit_event SET reason='forged' WHERE id=:id"), {"id": events[2].id})
    _rechain(db_session, events[2].id, lambda v: hashlib.sha256(json.dumps(v, default=str).encode()).hexdigest())
    report = verify(db_session, full=True)
    assert report.status == "rewritten" and report.event_id == events[2].id
    # a guessed key does no better
    _rechain(db_session, events[2].id, lambda v: event_digest(v, b"guessed-key"))
    assert verify(db_session, full=True).event_id == events[2].id


def test_truncation_after_a_checkpoint_is_detected(db_session):
    _events(db_session, 5)
    _, checkpoint = create_checkpoint(db_session)
    assert checkpoint is not None
    last = checkpoint.event_id
    _lift_guard(db_session)
    db_session.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": last - 3})
    report = verify(db_session)
    assert report.status == "truncated" and report.checkpoint_id == checkpoint.id and report.event_id == last


def test_rewrite_before_a_checkpoint_with_the_right_key_is_still_detected(db_session):
    """Even someone holding the audit key cannot re-sign the checkpoint without the signing key."""
    events = _events(db_session, 5)
    _, checkpoint = create_checkpoint(db_session)
    _lift_guard(db_session)
    db_session.execute(text("UPDATE audit_event SET reason='forged' WHERE id=:id"), {"id": events[1].id})
    _rechain(db_session, events[1].id, event_digest)
    assert verify(db_session, full=True).status == "rewritten"
    report = verify(db_session)  # incremental: the anchor alone shows it
    assert report.status == "rewritten" and report.checkpoint_id == checkpoint.id


def test_exported_checkpoints_catch_a_cut_of_both_tables(db_session):
    _events(db_session, 4)
    _, checkpoint = create_checkpoint(db_session)
    exported = [json.loads(json.dumps(export_record(checkpoint)))]
    from audit.chain import read_exported

    anchors = read_exported(json.dumps(e) for e in exported)
    _lift_guard(db_session)
    db_session.execute(text("DELETE FROM audit_checkpoint"))
    db_session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": checkpoint.event_id - 1})
    assert verify(db_session, full=True).ok  # what is left walks clean on its own
    report = verify(db_session, exported=anchors)
    assert report.status == "truncated" and report.event_id == checkpoint.event_id


def test_a_forged_checkpoint_is_refused(db_session):
    _events(db_session, 2)
    _, checkpoint = create_checkpoint(db_session)
    db_session.execute(text("UPDATE audit_checkpoint SET event_hash=:h WHERE id=:id"),
                       {"h": "0" * 64, "id": checkpoint.id})
    db_session.expire_all()
    report = verify(db_session)
    assert report.status == "bad_checkpoint" and report.checkpoint_id == checkpoint.id


def test_verification_is_incremental_from_the_latest_checkpoint(db_session):
    _events(db_session, 5)
    report, checkpoint = create_checkpoint(db_session)
    assert report.ok and checkpoint is not None
    _events(db_session, 3)
    incremental = verify(db_session)
    assert incremental.ok and incremental.checked == 3 and incremental.started_after == checkpoint.event_id
    assert verify(db_session, full=True).checked >= 8


def test_unkeyed_events_of_older_versions_are_anchored_once(db_session):
    """A log written before the keyed chain: reported until a checkpoint anchors it, then a
    rewrite of it (recomputed with the old digest) is caught by that checkpoint."""
    _lift_guard(db_session)
    db_session.execute(text("DELETE FROM audit_event"))
    prev = ""
    from core.timeutil import utcnow

    for n in range(3):
        values = {"at": utcnow(), "user_id": None, "username": None, "roles": None, "organisation_id": None,
                  "action": "old.event", "target_type": None, "target_id": str(n), "changes": None, "reason": None,
                  "client_address": None, "request_id": None, "prev_hash": prev}
        event = AuditEvent(**values, hash=legacy_digest(values))
        db_session.add(event)
        db_session.flush()
        prev = event.hash
    _events(db_session, 2)
    report = verify(db_session)
    assert report.ok and report.unanchored_legacy == 3 and report.notes
    _, checkpoint = create_checkpoint(db_session)
    assert checkpoint.legacy_until == _rows(db_session)[2].id
    assert verify(db_session, full=True).ok and not verify(db_session, full=True).notes
    first = _rows(db_session)[0]
    db_session.execute(text("UPDATE audit_event SET target_id='forged' WHERE id=:id"), {"id": first.id})
    _rechain(db_session, first.id, legacy_digest)
    assert verify(db_session).status == "rewritten"


def test_verify_streams_in_bounded_memory(db_session, monkeypatch):
    """Memory of a full walk is bounded by the batch, not the log: 4,000 events cost what 1,000
    do (batches of 200 here; 2,000 in use)."""
    import tracemalloc

    from sqlalchemy import insert

    import audit.chain
    from core.timeutil import utcnow

    def add(count):
        head = db_session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
        prev = head.hash if head else ""
        rows = []
        for n in range(count):
            values = {"at": utcnow(), "user_id": 1, "username": "u", "roles": "admin", "organisation_id": None,
                      "action": "bulk.event", "target_type": "thing", "target_id": str(n),
                      "changes": {"note": "x" * 200}, "reason": None, "client_address": "127.0.0.1",
                      "request_id": None, "prev_hash": prev}
            prev = event_digest(values)
            rows.append(values | {"hash": prev})
        db_session.execute(insert(AuditEvent), rows)

    def peak():
        tracemalloc.start()
        report = verify(db_session, full=True)
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.ok
        return used

    monkeypatch.setattr(audit.chain, "BATCH", 200)
    add(1000)
    peak()  # compiled-statement caches and the like, once
    small = peak()
    add(3000)
    large = peak()
    assert large < small * 1.3, (small, large)


def test_production_refuses_a_missing_audit_key(tmp_path, monkeypatch):
    from core.config import ConfigError, load_config

    monkeypatch.setenv("YIYANG_ENV", "production")
    monkeypatch.setenv("YIYANG_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("YIYANG_DATA_KEY", "d" * 40)
    monkeypatch.delenv("YIYANG_AUDIT_KEY", raising=False)
    monkeypatch.delenv("YIYANG_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="YIYANG_AUDIT_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("YIYANG_AUDIT_KEY", "a" * 40)
    assert load_config(tmp_path)["AUDIT_KEY"] == "a" * 40
    assert not (tmp_path / "audit_key").exists()
    monkeypatch.delenv("YIYANG_AUDIT_KEY")
    monkeypatch.setenv("YIYANG_ENV", "development")
    generated = load_config(tmp_path)["AUDIT_KEY"]
    assert generated == load_config(tmp_path)["AUDIT_KEY"] and len(generated) >= 32
    assert (tmp_path / "audit_key").stat().st_mode & 0o077 == 0


def test_checkpoint_rows_are_signed_and_carry_the_key_fingerprint(db_session):
    from core.signing import key_fingerprint

    _events(db_session, 1)
    _, checkpoint = create_checkpoint(db_session)
    stored = db_session.get(AuditCheckpoint, checkpoint.id)
    assert stored.key_fingerprint == key_fingerprint() and len(stored.signature) == 86


def _committed_engine(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the chain's lock is PostgreSQL's (SQLite has one writer)")
    return app.extensions["yiyang.engine"]


def test_concurrent_appenders_keep_one_chain(app, database_url):
    import threading

    from sqlmodel import Session

    engine = _committed_engine(app, database_url)

    def work(n):
        for i in range(5):
            with Session(engine) as session:
                record_event(session=session, action="test.race", target_type="thread", target_id=f"{n}-{i}")
                session.commit()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with Session(engine) as session:
        report = verify(session, full=True)
        assert report.ok, report
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "test.race")).all()) >= 20


def test_the_lock_is_taken_at_the_append_not_at_record_event(app, database_url):
    """An operation that has recorded an event but not yet flushed it blocks no other writer."""
    import threading

    from sqlmodel import Session

    engine = _committed_engine(app, database_url)
    slow = Session(engine)
    record_event(session=slow, action="test.slow", target_type="thing", target_id="slow")
    done = threading.Event()

    def other():
        with Session(engine) as session:
            record_event(session=session, action="test.other", target_type="thing", target_id="other")
            session.commit()
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert done.wait(timeout=20), "the second writer waited for the first one's unflushed event"
    thread.join()
    slow.commit()
    slow.close()
    with Session(engine) as session:
        assert verify(session, full=True).ok


def _reference_digest(values, key):
    """The digest as first written (json.dumps per event): the fast paths must give these bytes."""
    import hmac

    payload = {name: values[name] for name in DIGEST_FIELDS}
    payload["at"] = values["at"].isoformat(timespec="microseconds")
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("changes", [
    None, {}, {"name": "王秀英", "id_number": "***", "legal_basis": "statutory"},
    {"z": 1, "a": [1.5, None, True], "nested": {"b": "é\"\\\n", "a": 2}}, {"when": "2026-01-01", "n": 10**20}])
def test_bulk_digester_gives_the_events_own_digest(changes):
    from datetime import UTC, datetime, timedelta, timezone

    from audit.chain import Digester

    key = b"test-audit-key"
    digester = Digester(key)
    for at, roles, org in [(datetime(2026, 3, 1, 8, 0, tzinfo=UTC), "assessor", 3),
                           (datetime(2025, 12, 31, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=8))),
                            "reviewer,admin", None)]:
        values = {"at": at, "user_id": 7, "username": "评估员一", "roles": roles, "organisation_id": org,
                  "action": "assessment.start", "target_type": "assessment", "target_id": "42", "changes": changes,
                  "reason": None, "client_address": "10.0.0.1", "request_id": "demo-city", "prev_hash": "ab" * 32}
        expected = _reference_digest(values, key)
        assert event_digest(values, key) == expected
        assert digester.digest(values) == expected
    assert Digester(b"another key").digest(values) != expected
