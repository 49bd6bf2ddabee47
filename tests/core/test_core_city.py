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
    from assessment.counts import rebuild_day_counts
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
        assert list(rebuild_day_counts(db_session, fix=False)) == []  # the statistics' counters
        again = fill_city(db_session, context, 3)  # a second fill appends after the first
        assert again["first_elder_id"] > counts["first_elder_id"] and verify_chain(db_session)[0]


def _indexes(session):
    """Every index and constraint of the schema, as the database would create them again."""
    from sqlalchemy import text

    indexes = session.execute(text(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")).all()
    constraints = session.execute(text(
        "SELECT t.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
        " JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema()")).all()
    return sorted(map(tuple, indexes)) + sorted(map(tuple, constraints))


@pytest.mark.scale
def test_fill_that_rebuilds_indexes_leaves_the_migrated_schema(app, db_session):
    """A large fill drops the bulk tables' secondary indexes and foreign keys and puts them back:
    afterwards the database has exactly the indexes and constraints it had (names, columns, GIN
    operator classes, partial predicates, ON DELETE rules); uniqueness is never dropped."""
    from accounts.cli import run_domain_seeders, seed_accounts
    from core.city import BULK, fill_city
    from core.city_writer import Writer
    from tests.factories import TEST_PASSWORD

    if db_session.connection().dialect.name != "postgresql":
        pytest.skip("indexes are rebuilt on PostgreSQL only")
    with app.app_context():
        context, _created = seed_accounts(db_session, TEST_PASSWORD)
        run_domain_seeders(db_session, context)
        before = _indexes(db_session)
        dropped = Writer(db_session.connection()).drop_for_bulk(BULK)
        assert any(".elder USING " in d for d in dropped)  # the name search index, among others
        assert any("FOREIGN KEY (elder_id)" in d for d in dropped)
        assert not any(d.startswith("CREATE UNIQUE") for d in dropped)
        during = _indexes(db_session)
        assert len(during) == len(before) - len(dropped)
        Writer(db_session.connection()).restore(dropped)
        assert _indexes(db_session) == before
        counts = fill_city(db_session, context, 40, rebuild_indexes=True)
        assert counts["elders"] == 40
        assert _indexes(db_session) == before
        ok, broken, _checked = verify_chain(db_session)
        assert ok, broken


def test_writer_thread_error_is_raised_in_the_caller(app, db_session):
    """A failure in the writer thread surfaces at the caller's next call (never a hang), and the
    thread is stopped."""
    from core.city_writer import Writer

    if db_session.connection().dialect.name != "postgresql":
        pytest.skip("the fill writes from a thread on PostgreSQL only")
    writer = Writer(db_session.connection())
    writer.start()
    thread = writer._thread
    writer.write(Elder, [{"id": 10**9, "no_such_column": 1}])
    with pytest.raises(Exception, match="no_such_column"):
        writer.drain()
    assert thread is not None and not thread.is_alive()
    writer.close()  # a second close is harmless


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_vacuum_after_fill_marks_the_filled_tables(kind, tmp_path):
    """`yiyang demo --elders N` ends with VACUUM ANALYZE of the tables the fill wrote (PostgreSQL:
    index-only scans need the visibility map COPY leaves empty); on SQLite it does nothing."""
    import time

    from sqlalchemy import text

    from core.city import vacuum_after_fill
    from core.db import make_engine
    from tests.race import race_database

    with race_database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            vacuum_after_fill(engine)
            if kind == "sqlite":
                return
            for _attempt in range(50):  # the statistics are reported at the end of each VACUUM
                with engine.connect() as conn:
                    done = conn.execute(text("SELECT vacuum_count, analyze_count FROM pg_stat_user_tables "
                                             "WHERE relname = 'elder_state' AND schemaname = current_schema()")).one()
                if done[0] >= 1 and done[1] >= 1:
                    break
                time.sleep(0.1)
            assert done[0] >= 1 and done[1] >= 1
        finally:
            engine.dispose()
