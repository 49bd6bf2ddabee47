"""`yiyang repair-state`: rebuild the current-state tables (elder_state, rating_facility_state),
the name-search grams (elder_name_gram, assessment.names) and the statistics' counters
(stats_assessment_day, stats_elder_level, stats_elder_due: assessment.counts) from history and report every drift found. Exit code 0: nothing drifted; 1: drift was found
(and fixed, unless --check)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.db import get_session

SHOW = 20  # drifted rows printed per table; the rest are counted


def _show(value: object) -> str:
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else repr(value)


@click.command("repair-state")
@click.option("--check", is_flag=True, help="只报告，不修正 / report only, change nothing")
@with_appcontext
def repair_state_command(check: bool) -> None:
    """由历史重建当前状态表并报告偏差 / rebuild the current-state tables from history, report drift."""
    from assessment.counts import rebuild_day_counts, rebuild_due_counts, rebuild_level_counts
    from assessment.names import rebuild_name_grams
    from assessment.state import rebuild_states as rebuild_elders
    from rating.state import rebuild_states as rebuild_facilities

    drifted = 0
    session = get_session()
    try:
        for name, drifts in (("elder_state", rebuild_elders(session, fix=not check)),
                             ("rating_facility_state", rebuild_facilities(session, fix=not check)),
                             ("elder_name_gram", rebuild_name_grams(session, fix=not check)),
                             ("stats_assessment_day", rebuild_day_counts(session, fix=not check)),
                             # after elder_state: they count its rows as stored
                             ("stats_elder_level", rebuild_level_counts(session, fix=not check)),
                             ("stats_elder_due", rebuild_due_counts(session, fix=not check))):
            count = 0
            for row_id, fields in drifts:
                count += 1
                if count <= SHOW:
                    detail = ", ".join(f"{k}: {_show(old)} → {_show(new)}" for k, (old, new) in fields.items()) or "缺失 / missing"
                    click.echo(f"  {name} #{row_id}: {detail}")
            click.echo(f"{name}: {count} 处偏差 / drifted rows" + ("" if check or not count else " (已修正 / fixed)"))
            drifted += count
    except BaseException:
        session.rollback()
        raise
    if check:
        session.rollback()
    else:
        session.commit()
    if drifted:
        raise SystemExit(1)
