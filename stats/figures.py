"""The statistics pages' and the monthly report's content: each figure as a table whose cells
link to the list they count (with the matching filters), and its SVG chart. `link(endpoint,
args)` makes a URL (None in a PDF made outside a request). Shared by stats.views and
stats.monthly, so the page and the report show the same numbers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from reports.charts import column_chart_svg, count_bars_svg
from stats import queries
from stats.params import Filters, Month

Link = Callable[[str, dict[str, Any]], str | None]


@dataclass
class Cell:
    value: Any
    url: str | None = None
    numeric: bool = True


@dataclass
class Figure:
    key: str
    title: str
    note: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: Any = None


def _org(filters: Filters, unit_id: int | None = None) -> dict[str, Any]:
    if unit_id is not None:
        return {"org": unit_id}
    return {"org": filters.org} if filters.org is not None else {}


def _units(table: queries.Table) -> list[Any]:
    seen = {key[0] for key in table.counts}
    return sorted((u for u in table.units.by_id.values() if u.id in seen), key=lambda u: (u.is_own_level, u.name))


def _unit_cell(unit: Any) -> Cell:
    return Cell(unit.name + (_("（本级）") if unit.is_own_level else ""), numeric=False)


def _count_row(counts: Mapping[tuple[Any, Any], int], unit: Any, keys: Sequence[Any],
               link_of: Callable[[Any], str | None], total_url: str | None = None) -> list[Cell]:
    """A district's row of a count table: its name, a count per key linked to the list it counts,
    and their sum. The organisation's own level has no links (its lists would show the subtree)."""
    own = unit.is_own_level
    cells = [Cell(counts.get((unit.id, key), 0), None if own else link_of(key)) for key in keys]
    total = Cell(sum(counts.get((unit.id, key), 0) for key in keys), None if own else total_url)
    return [_unit_cell(unit), *cells, total]


def _approved_args(month: Month | None, filters: Filters) -> dict[str, Any]:
    first, last = (month.first, month.last) if month else (filters.start, filters.end)
    return {"status": "approved", "current": 1, "approved_from": first.isoformat(), "approved_to": last.isoformat()}


def assessment_figures(session: Session, filters: Filters, link: Link, labels: dict[int, str],
                       font: str) -> list[Figure]:
    """Assessments by month and level, by district and level, and the level shares per month."""
    table = queries.assessments(session, filters)
    levels = sorted({key[2] for key in table.counts if key[2] is not None}) + (
        [None] if any(key[2] is None for key in table.counts) else [])
    name = {lvl: labels.get(lvl, str(lvl)) if lvl is not None else _("无等级") for lvl in levels}
    by_month: dict[tuple[str, Any], int] = {}
    by_unit: dict[tuple[int, Any], int] = {}
    for (unit, month, level), count in table.counts.items():
        by_month[(month, level)] = by_month.get((month, level), 0) + count
        by_unit[(unit, level)] = by_unit.get((unit, level), 0) + count

    def cell(count: int, args: dict[str, Any], level: Any) -> Cell:
        return Cell(count, link("assessment.index", {**args, "level": level}) if level is not None else None)

    months = Figure("assessments_month", _("按月评估数量"), _("审核通过的现行评估（被更正取代的旧版本不计），按审核通过的月份和最终等级。"),
                    [_("月份"), *[name[lvl] for lvl in levels], _("合计")])
    for month in filters.months:
        args = {**_approved_args(month, filters), **_org(filters)}
        row = [Cell(month.key, numeric=False)]
        row += [cell(by_month.get((month.key, lvl), 0), args, lvl) for lvl in levels]
        row.append(Cell(sum(by_month.get((month.key, lvl), 0) for lvl in levels), link("assessment.index", args)))
        months.rows.append(row)
    series = [(name[lvl], [by_month.get((m.key, lvl), 0) for m in filters.months]) for lvl in levels]
    if table.total:
        months.chart = column_chart_svg([m.key for m in filters.months], series, font_family=font,
                                        title=months.title)
    shares = Figure("levels_trend", _("等级构成的变化"), _("每月审核通过的评估中各等级所占比例。"), [])
    if table.total:
        shares.chart = column_chart_svg([m.key for m in filters.months], series, percent=True, font_family=font,
                                        title=shares.title)
    districts = Figure("assessments_district", _("各区县评估数量"), _("统计期间内审核通过的现行评估，按区县和最终等级。"),
                       [_("区县"), *[name[lvl] for lvl in levels], _("合计")])
    for unit in _units(table):
        args = {**_approved_args(None, filters), "org": unit.id}
        districts.rows.append(_count_row(
            by_unit, unit, levels,
            lambda lvl, args=args: None if lvl is None else link("assessment.index", {**args, "level": lvl}),
            link("assessment.index", args)))
    if districts.rows:
        districts.chart = count_bars_svg([{"label": r[0].value, "value": r[-1].value} for r in districts.rows],
                                         font_family=font, title=districts.title)
    return [months, shares, districts]


def elder_figures(session: Session, filters: Filters, link: Link, labels: dict[int, str], font: str) -> list[Figure]:
    """Current level distribution, reassessments due and overdue, entitlements and subsidy."""
    now = queries.levels_now(session, filters)
    levels = sorted({key[1] for key in now.counts})
    distribution = Figure("levels_now", _("当前等级分布"), _("每位老人最近一次审核通过的评估等级（当前状态），按区县。"),
                          [_("区县"), *[labels.get(lvl, str(lvl)) for lvl in levels], _("合计")])
    for unit in _units(now):
        distribution.rows.append(_count_row(
            now.counts, unit, levels, lambda lvl, unit=unit: link("assessment.elders", {"org": unit.id, "level": lvl})))
    if now.total:
        distribution.chart = count_bars_svg(
            [{"label": labels.get(lvl, str(lvl)), "value": sum(c for k, c in now.counts.items() if k[1] == lvl)}
             for lvl in levels], font_family=font, title=distribution.title)
    due = queries.reassessments_due(session, filters)
    reassess = Figure("reassessments", _("复评到期与逾期"), _("未在评估中的老人：复评已逾期，或在 30 天内到期（截至今天）。"),
                      [_("区县"), _("已逾期"), _("30 天内到期")])
    for unit in _units(due):
        own = unit.is_own_level
        reassess.rows.append([_unit_cell(unit)] + [
            Cell(due.counts.get((unit.id, kind), 0), None if own else link("assessment.due", {"kind": kind, "org": unit.id}))
            for kind in ("overdue", "soon")])
    money = queries.entitlements(session, filters)
    entitled = Figure("entitlements", _("待遇与每月补贴"), _("当前等级在等级待遇表中有对应待遇的老人数，以及按表计算的每月补贴合计（元）。"),
                      [_("区县"), *[labels.get(lvl, str(lvl)) for lvl in sorted({k[1] for k in money.counts})],
                       _("享受待遇人数"), _("每月补贴合计（元）")])
    money_levels = sorted({k[1] for k in money.counts})
    for unit in _units(money):
        row = _count_row(money.counts, unit, money_levels,
                         lambda lvl, unit=unit: link("assessment.elders", {"org": unit.id, "level": lvl}))
        fen = sum(money.extra["fen"].get((unit.id, lvl), 0) for lvl in money_levels)
        row.append(Cell(f"{fen / 100:,.2f}"))
        entitled.rows.append(row)
    return [distribution, reassess, entitled]


def rating_figures(session: Session, filters: Filters, link: Link, font: str) -> list[Figure]:
    """Facilities by grade and district; corrective actions opened, closed and overdue by month."""
    table = queries.facilities(session, filters)
    grades = sorted({k[1] for k in table.counts if k[1] is not None}) + (
        [None] if any(k[1] is None for k in table.counts) else [])
    labels = table.extra["labels"]
    heads = [labels.get(g, str(g)) if g is not None else _("未评定") for g in grades]
    facilities = Figure("facilities", _("各区县机构等级"), _("每家机构的现行等级（未被取代的最新等级）；未评定指尚无等级。"),
                        [_("区县"), *heads, _("合计")])
    for unit in _units(table):
        facilities.rows.append(_count_row(
            table.counts, unit, grades,
            lambda grade, unit=unit: link("rating.facilities", {"org": unit.id, **(
                {"grade": grade} if grade is not None else {"ungraded": 1})}),
            link("rating.facilities", {"org": unit.id})))
    if table.total:
        facilities.chart = count_bars_svg(
            [{"label": head, "value": sum(c for k, c in table.counts.items() if k[1] == g)}
             for head, g in zip(heads, grades, strict=True)], font_family=font, title=facilities.title)
    actions = queries.actions_by_month(session, filters)
    kinds = (("opened", _("新开"), "all", "opened"), ("closed", _("关闭"), "closed", "closed"),
             ("overdue", _("逾期未整改"), "overdue", ""))
    figure = Figure("actions", _("整改按月"), _("新开：当月开出的整改；关闭：当月核验关闭；逾期未整改：期限在当月、至今仍未整改（待整改或已升级）。"),
                    [_("月份"), *[k[1] for k in kinds]])
    summed: dict[tuple[str, str], int] = {}
    for (_unit, month, what), count in actions.counts.items():
        summed[(month, what)] = summed.get((month, what), 0) + count
    for month in filters.months:
        row = [Cell(month.key, numeric=False)]
        for what, _label, which, prefix in kinds:
            days = {f"{prefix}_from" if prefix else "from": month.first.isoformat(),
                    f"{prefix}_to" if prefix else "to": month.last.isoformat()}
            row.append(Cell(summed.get((month.key, what), 0),
                            link("rating.actions", {"which": which, **days, **_org(filters)})))
        figure.rows.append(row)
    if actions.total:
        figure.chart = column_chart_svg([m.key for m in filters.months],
                                        [(label, [summed.get((m.key, what), 0) for m in filters.months])
                                         for what, label, _w, _p in kinds], stacked=False, font_family=font,
                                        title=figure.title)
    return [facilities, figure, reward_figure(session, filters)]


def reward_figure(session: Session, filters: Filters) -> Figure:
    """Grade rewards due by district for the year the period ends in (docs/rating.md)."""
    table = queries.rewards(session, filters)
    figure = Figure("rewards", _("各区县等级奖补（%(year)s 年）", year=table.extra["year"]),
                    _("每年发放的奖补按 %(day)s 有效的等级计，一次性奖补按当年获评的等级计；金额为元。",
                      day=table.extra["as_of"].isoformat()),
                    [_("区县"), _("每年奖补（元）"), _("获每年奖补的机构"), _("一次性奖补（元）"), _("合计（元）")])
    for unit in _units(table):
        yearly, once = table.counts.get((unit.id, "yearly"), 0), table.counts.get((unit.id, "one_off"), 0)
        figure.rows.append([_unit_cell(unit), Cell(f"{yearly / 100:,.2f}"),
                            Cell(table.extra["facilities"].get((unit.id, "yearly"), 0)),
                            Cell(f"{once / 100:,.2f}"), Cell(f"{(yearly + once) / 100:,.2f}")])
    return figure


def level_labels(lang: str) -> dict[int, str]:
    """Level code → label, from the published assessment instruments (the default one first)."""
    from assessment.queries import assessment_definitions

    labels: dict[int, str] = {}
    for definition in assessment_definitions().values():
        for level in definition.levels:
            labels.setdefault(level.code, level.label.get(lang))
    return labels
