"""The assessment figures read the counter (assessment.counts) and give exactly what the former
GROUP BY over the assessments gave, on a filled city, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import and_, case, func, literal, select

from assessment.models import Assessment


def _grouped(session: Any, filters: Any) -> dict[tuple[Any, ...], int]:
    """The figure as it was computed before the counter: every current approved assessment."""
    month = case(*[(Assessment.approved_at < m.end, literal(m.key)) for m in filters.months], else_=literal(None))
    stmt = (select(Assessment.organisation_id, month, Assessment.level_code, func.count())
            .where(Assessment.status == "approved", Assessment.superseded_by_id.is_(None),  # type: ignore[union-attr]
                   Assessment.organisation_id.in_(filters.orgs),  # type: ignore[attr-defined]
                   and_(Assessment.approved_at >= filters.start_at, Assessment.approved_at < filters.end_at))
            .group_by(Assessment.organisation_id, month, Assessment.level_code))
    units = filters.cache.get("units")
    assert units is not None
    return units.fold(session.execute(stmt))


@pytest.mark.scale
def test_assessment_figure_equals_the_group_by_over_assessments(app, db_session):
    from accounts.cli import run_domain_seeders, seed_accounts
    from assessment.counts import rebuild_day_counts
    from core.city import fill_city
    from stats import queries
    from stats.params import parse_filters
    from tests.factories import TEST_PASSWORD

    with app.test_request_context():
        context, _created = seed_accounts(db_session, TEST_PASSWORD)
        run_domain_seeders(db_session, context)
        fill_city(db_session, context, 60)
        db_session.expire_all()
        assert list(rebuild_day_counts(db_session, fix=False)) == []
        admin = context.users["admin"]
        for args in ({"from": "2023-06", "to": "2027-05"}, {}, {"from": "2025-03-15", "to": "2026-02-10"}):
            filters = parse_filters(db_session, admin, args)
            table = queries.assessments(db_session, filters)
            expected = _grouped(db_session, filters)
            assert table.counts == expected, args
        everything = parse_filters(db_session, admin, {"from": "2022-01", "to": "2026-12"})
        total: dict[Any, int] = defaultdict(int)
        for (_unit, _month, level), count in queries.assessments(db_session, everything).counts.items():
            total[level] += count
        assert sum(total.values()) == db_session.scalar(
            select(func.count()).select_from(Assessment).where(Assessment.status == "approved",
                                                                Assessment.superseded_by_id.is_(None)))  # type: ignore[union-attr]
        assert sum(total.values()) > 60


def _state_grouped(session: Any, filters: Any, soon_days: int) -> tuple[dict[Any, int], dict[Any, int]]:
    """Levels now and reassessments due as they were computed before the counters: a GROUP BY
    over every elder_state row."""
    from datetime import timedelta

    from assessment.models import ElderState

    units = filters.cache["units"]
    levels = units.fold(session.execute(
        select(ElderState.organisation_id, ElderState.level_code, func.count())
        .where(ElderState.organisation_id.in_(filters.orgs), ElderState.level_code.is_not(None))  # type: ignore[attr-defined, union-attr]
        .group_by(ElderState.organisation_id, ElderState.level_code)))
    kind = case((ElderState.next_due_on < filters.today, literal("overdue")), else_=literal("soon"))  # type: ignore[operator]
    due = units.fold(session.execute(
        select(ElderState.organisation_id, kind, func.count())
        .where(ElderState.organisation_id.in_(filters.orgs), ElderState.open_assessment_id.is_(None),  # type: ignore[attr-defined, union-attr]
               ElderState.next_due_on.is_not(None),  # type: ignore[union-attr]
               ElderState.next_due_on <= filters.today + timedelta(days=soon_days))  # type: ignore[operator]
        .group_by(ElderState.organisation_id, kind)))
    return levels, due


@pytest.mark.scale
def test_elder_state_figures_equal_the_group_by_over_elder_state(app, db_session):
    """Levels now, entitlements and reassessments due read stats_elder_level and stats_elder_due
    (the months before today's from the counter, this month's days from elder_state) and give
    what the GROUP BY over elder_state gives, for a first, a middle and a last day of a month."""
    from datetime import date

    from accounts.cli import run_domain_seeders, seed_accounts
    from assessment.counts import rebuild_due_counts, rebuild_level_counts
    from assessment.queries import DUE_SOON_DAYS
    from core.city import fill_city
    from stats import queries
    from stats.params import parse_filters
    from tests.factories import TEST_PASSWORD

    with app.test_request_context():
        context, _created = seed_accounts(db_session, TEST_PASSWORD)
        run_domain_seeders(db_session, context)
        fill_city(db_session, context, 80)
        db_session.expire_all()
        assert list(rebuild_level_counts(db_session, fix=False)) == []
        assert list(rebuild_due_counts(db_session, fix=False)) == []
        for user in (context.users["admin"], context.users["assessor1"]):
            for today in (date(2026, 12, 1), date(2027, 3, 16), date(2027, 8, 31), date(2028, 2, 29)):
                filters = parse_filters(db_session, user, {}, today=today)
                levels, due = queries.levels_now(db_session, filters), queries.reassessments_due(db_session, filters)
                expected_levels, expected_due = _state_grouped(db_session, filters, DUE_SOON_DAYS)
                assert levels.counts == expected_levels, (user.username, today)
                assert due.counts == expected_due, (user.username, today)
                assert sum(queries.entitlements(db_session, filters).counts.values()) <= levels.total
            assert sum(due.counts.values()) > 0 and levels.total > 0
