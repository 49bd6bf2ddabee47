"""The statistics: SQL aggregates (GROUP BY organisation and the figure's keys, behind the
indexes named in docs/performance.md), folded into districts (stats.districts). Each function
takes the session and the parsed filters and uses no Flask globals, so pages, the API, the
monthly report and the CLI share them. What each figure counts: docs/statistics.md."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from accounts.models import Organisation
from assessment.counts import month_of
from assessment.models import (
    NO_LEVEL,
    AssessmentDayCount,
    ElderDueCount,
    ElderLevelCount,
    ElderState,
    Entitlement,
)
from assessment.queries import DUE_SOON_DAYS
from core.paging import in_ids
from core.timeutil import utcnow
from rating.models import CorrectiveAction, Facility, FacilityState
from stats.districts import Units, units_for
from stats.params import Filters


def month_case(column: Any, filters: Filters) -> Any:
    """The month ("YYYY-MM", in the organisation's time zone) a UTC timestamp falls in, as SQL:
    bounds computed here, so both databases agree and daylight saving is right."""
    return case(*[(column < m.end, literal(m.key)) for m in filters.months], else_=literal(None))


def in_period(column: Any, filters: Filters) -> Any:
    return and_(column >= filters.start_at, column < filters.end_at)


@dataclass
class Table:
    """Counts keyed by (unit id, *keys) with the units they name."""
    keys: tuple[str, ...]
    counts: dict[tuple[Any, ...], int]
    units: Units
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self, by: tuple[str, ...]) -> list[dict[str, Any]]:
        """Rows with only the `by` keys (district as the unit's name and id), summed over the rest."""
        summed: dict[tuple[Any, ...], int] = defaultdict(int)
        for key, count in self.counts.items():
            named = dict(zip(("district", *self.keys), key, strict=True))
            summed[tuple(named[k] for k in by)] += count
        out = []
        for key, count in sorted(summed.items(), key=lambda kv: tuple(_sortable(v) for v in kv[0])):
            row: dict[str, Any] = {}
            for name, value in zip(by, key, strict=True):
                if name == "district":
                    unit = self.units.by_id.get(value)
                    row["district"] = unit.name if unit else None
                    row["district_id"] = value
                else:
                    row[name] = value
            row["count"] = count
            out.append(row)
        return out


def _sortable(value: Any) -> tuple[int, str]:
    if value is None:
        return (1, "")
    return (0, f"{value:012d}" if isinstance(value, int) else str(value))


def _units(session: Session, filters: Filters) -> Units:
    """The district units of the scope, read once per request (every figure folds with them)."""
    if "units" not in filters.cache:
        filters.cache["units"] = units_for(session, filters.orgs)
    return filters.cache["units"]  # type: ignore[no-any-return]


def _table(session: Session, filters: Filters, keys: tuple[str, ...], stmt: Any) -> Table:
    units = _units(session, filters)
    return Table(keys, units.fold(session.execute(stmt)), units)


# --- assessments ------------------------------------------------------------------------------


def assessments(session: Session, filters: Filters) -> Table:
    """Current approved assessments (not superseded by an amendment) approved in the period, by
    district, month of approval and final level: summed from their counter per organisation, day
    of approval and level (stats_assessment_day, kept by assessment.counts)."""
    day = AssessmentDayCount.approved_on
    month = case(*[(day <= m.last, literal(m.key)) for m in filters.months], else_=literal(None))
    level = case((AssessmentDayCount.level_code == NO_LEVEL, literal(None)), else_=AssessmentDayCount.level_code)
    stmt = (select(AssessmentDayCount.organisation_id, month, level, func.sum(AssessmentDayCount.count))
            .where(in_ids(session, AssessmentDayCount.organisation_id, filters.orgs),  # type: ignore[attr-defined]
                   day >= filters.start, day <= filters.end, AssessmentDayCount.count != 0)
            .group_by(AssessmentDayCount.organisation_id, month, level))
    units = _units(session, filters)
    return Table(("month", "level"), units.fold((org, m, lvl, int(n)) for org, m, lvl, n in session.execute(stmt)
                                                if n), units)


def levels_now(session: Session, filters: Filters) -> Table:
    """Elders by their current level (latest approved assessment), by district: summed from their
    counter per organisation, instrument and level (stats_elder_level, kept with elder_state)."""
    total = func.sum(ElderLevelCount.count)
    stmt = (select(ElderLevelCount.organisation_id, ElderLevelCount.level_code, total)
            .where(in_ids(session, ElderLevelCount.organisation_id, filters.orgs))  # type: ignore[attr-defined]
            .group_by(ElderLevelCount.organisation_id, ElderLevelCount.level_code)
            .having(total != 0))
    return _table(session, filters, ("level",), stmt)


def reassessments_due(session: Session, filters: Filters, soon_days: int = DUE_SOON_DAYS) -> Table:
    """Elders whose reassessment is overdue or due within `soon_days` and not under way, by
    district (as the list assessment.lists.due_page). The months before this one are summed from
    their counter (stats_elder_due); only this month's days up to the horizon are counted from
    elder_state, through its partial (organisation, due) index, without reading the table."""
    today = filters.today
    this_month = month_of(today)
    earlier = (select(ElderDueCount.organisation_id, literal("overdue"), func.sum(ElderDueCount.count))
               .where(in_ids(session, ElderDueCount.organisation_id, filters.orgs),  # type: ignore[attr-defined]
                      ElderDueCount.due_month < this_month)  # type: ignore[operator]
               .group_by(ElderDueCount.organisation_id))
    kind = case((ElderState.next_due_on < today, literal("overdue")), else_=literal("soon"))  # type: ignore[operator]
    window = (select(ElderState.organisation_id, kind, func.count())
              .where(in_ids(session, ElderState.organisation_id, filters.orgs),  # type: ignore[attr-defined]
                     ElderState.open_assessment_id.is_(None),  # type: ignore[union-attr]
                     ElderState.next_due_on.is_not(None),  # type: ignore[union-attr]  (the partial index's rows)
                     ElderState.next_due_on >= this_month,  # type: ignore[operator]
                     ElderState.next_due_on <= today + timedelta(days=soon_days))  # type: ignore[operator]
              .group_by(ElderState.organisation_id, kind))
    units = _units(session, filters)
    counts = units.fold(row for stmt in (earlier, window) for row in session.execute(stmt) if row[-1])
    return Table(("kind",), counts, units)


def entitlements(session: Session, filters: Filters) -> Table:
    """Elders whose current level has an entitlement row (their organisation's or the nearest
    ancestor's, as assessment.queries.entitlement_for) and the monthly subsidy it pays, by
    district and level, from stats_elder_level. `counts` holds elders; `extra["fen"]` the subsidy
    in fen per key."""
    total = func.sum(ElderLevelCount.count)
    stmt = (select(ElderLevelCount.organisation_id, ElderLevelCount.instrument_id, ElderLevelCount.level_code, total)
            .where(in_ids(session, ElderLevelCount.organisation_id, filters.orgs))  # type: ignore[attr-defined]
            .group_by(ElderLevelCount.organisation_id, ElderLevelCount.instrument_id, ElderLevelCount.level_code)
            .having(total != 0))
    rows = list(session.execute(stmt))
    paths = dict(session.execute(select(Organisation.id, Organisation.path)
                                 .where(Organisation.id.in_({r[0] for r in rows}))).all()) if rows else {}  # type: ignore[union-attr]
    chains = {org: [int(p) for p in path.strip("/").split("/") if p] for org, path in paths.items()}
    ancestors = {a for chain in chains.values() for a in chain}
    table: dict[tuple[int, str, int], Entitlement] = {}
    if ancestors:
        for row in session.execute(select(Entitlement).where(Entitlement.organisation_id.in_(ancestors))).scalars():  # type: ignore[attr-defined]
            table[(row.organisation_id, row.instrument_id, row.level_code)] = row
    units = _units(session, filters)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    fen: dict[tuple[Any, ...], int] = defaultdict(int)
    for org_id, instrument, level, count in rows:
        entitlement = next((table[(a, instrument, level)] for a in reversed(chains.get(org_id, []))
                            if (a, instrument, level) in table), None)
        unit = units.of_org.get(org_id)
        if entitlement is None or unit is None:
            continue
        counts[(unit.id, level)] += count
        fen[(unit.id, level)] += count * entitlement.monthly_subsidy_fen
    return Table(("level",), dict(counts), units, {"fen": dict(fen)})


# --- facilities and corrective actions ----------------------------------------------------------


def facilities(session: Session, filters: Filters) -> Table:
    """Facilities by current grade code (rating_facility_state; None without one) and district.
    `extra["labels"]` names each grade code as its facilities' grades are named in the request's
    language (rating.schemes.grade_name)."""
    grade = FacilityState.grade_code
    stmt = (select(Facility.organisation_id, grade, func.count())
            .select_from(Facility).outerjoin(FacilityState, FacilityState.facility_id == Facility.id)  # type: ignore[arg-type]
            .where(in_ids(session, Facility.organisation_id, filters.orgs))  # type: ignore[attr-defined]
            .group_by(Facility.organisation_id, grade))
    result = _table(session, filters, ("grade",), stmt)
    from core.i18n import page_lang
    from rating.models import Grade
    from rating.rewards import scheme_grades
    from rating.schemes import grade_name

    labels: dict[int, set[str]] = defaultdict(set)
    lang, levels = page_lang(), scheme_grades()
    for code, scheme, label in session.execute(
            select(FacilityState.grade_code, Grade.scheme, FacilityState.grade_label).distinct()
            .join(Grade, Grade.id == FacilityState.grade_id)  # type: ignore[arg-type]
            .where(in_ids(session, FacilityState.organisation_id, filters.orgs), FacilityState.grade_code.is_not(None))):  # type: ignore[attr-defined, union-attr]
        labels[code].add(grade_name(scheme, code, label, lang, levels))
    result.extra["labels"] = {code: " / ".join(sorted(names)) for code, names in labels.items()}
    return result


def rewards(session: Session, filters: Filters) -> Table:
    """Grade rewards due for the year the period ends in (rating.rewards.reward_groups: yearly at
    the grades in force on the year's reference day, one-off at the grades awarded in the year),
    by district and reward period. Counts are amounts in fen; `extra["facilities"]` the facilities."""
    from rating.rewards import reward_groups

    reference, groups = reward_groups(session, organisation_ids=filters.orgs, year=filters.end.year,
                                      today=filters.today)
    units = _units(session, filters)
    result = Table(("period",), units.fold((org, period, fen) for org, _d, period, _n, fen in groups), units)
    result.extra.update(facilities=units.fold((org, period, n) for org, _d, period, n, _f in groups),
                        year=filters.end.year, as_of=reference)
    return result


def actions_by_month(session: Session, filters: Filters) -> Table:
    """Corrective actions per month and district: opened (created in the month), closed (verified
    and closed in the month) and overdue (deadline in the month, still open or escalated now)."""
    now = utcnow()
    tables = []
    for what, column, condition in (
            ("opened", CorrectiveAction.created_at, None),
            ("closed", CorrectiveAction.verified_at, CorrectiveAction.status == "closed"),
            ("overdue", CorrectiveAction.due_at, and_(CorrectiveAction.status.in_(("open", "escalated")),  # type: ignore[attr-defined]
                                                      CorrectiveAction.due_at < now))):  # type: ignore[operator]
        month = month_case(column, filters)
        stmt = (select(CorrectiveAction.organisation_id, month, literal(what), func.count())
                .where(in_ids(session, CorrectiveAction.organisation_id, filters.orgs), in_period(column, filters))  # type: ignore[attr-defined]
                .group_by(CorrectiveAction.organisation_id, month))
        if condition is not None:
            stmt = stmt.where(condition)
        tables.append(list(session.execute(stmt)))
    units = _units(session, filters)
    return Table(("month", "what"), units.fold(row for rows in tables for row in rows), units)


def actions_by_status(session: Session, filters: Filters) -> Table:
    """Corrective actions opened in the period by month of opening and current status."""
    month = month_case(CorrectiveAction.created_at, filters)
    stmt = (select(CorrectiveAction.organisation_id, month, CorrectiveAction.status, func.count())
            .where(in_ids(session, CorrectiveAction.organisation_id, filters.orgs),  # type: ignore[attr-defined]
                   in_period(CorrectiveAction.created_at, filters))
            .group_by(CorrectiveAction.organisation_id, month, CorrectiveAction.status))
    return _table(session, filters, ("month", "status"), stmt)
