"""Grades that pay: each organisation's table of what a grade of a scheme pays (an operating
subsidy or reward, yearly or once, from a date), what a facility receives or stands to lose,
and the reward totals by district for a year.

A facility uses the nearest organisation's table: its supervising organisation's, else the
parent's, and so on up the tree (as the care-level entitlement table does). A row applies from
its `valid_from` until a later row of the same grade replaces it. The table is empty until an
administrator fills it: the standards give no amounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from accounts.models import Organisation
from rating.models import REWARD_PERIODS, Facility, Grade, GradeReward, Inspection

MAX_AMOUNT_FEN = 10_000_000_000  # 1 亿元: beyond any grade reward, catches a misplaced digit
NOTE_MAX = 300
ENTRY_KEYS = {"scheme", "grade_code", "amount", "period", "note", "valid_from", "version"}


@dataclass(frozen=True)
class RewardEntry:
    scheme: str
    grade_code: int
    amount_fen: int
    period: str
    note: str
    valid_from: date
    version: int | None


def scheme_grades() -> dict[str, dict[int, Any]]:
    """{scheme id: {grade code: Level}} of every published rating scheme."""
    from rating.schemes import rating_schemes

    return {d.id: {level.code: level for level in d.levels} for d in rating_schemes()}


def _amount_fen(value: Any) -> int | None:
    """Yuan (number or text, at most two decimals) to fen; None when it is not such a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def parse_entries(raw: Any, grades: dict[str, dict[int, Any]] | None = None) -> tuple[list[RewardEntry], list[dict[str, Any]]]:
    """Check a list of rows {scheme, grade_code, amount (元), period, note, valid_from, version}
    and return (entries, every problem as {"item": "rewards[i].field", "message"})."""
    grades = scheme_grades() if grades is None else grades
    if not isinstance(raw, list):
        return [], [{"item": "rewards", "message": _l("rewards 应为列表")}]
    entries: list[RewardEntry] = []
    problems: list[dict[str, Any]] = []
    seen: set[tuple[str, int, str, date]] = set()
    for index, row in enumerate(raw):
        where = f"rewards[{index}]"
        if not isinstance(row, dict):
            problems.append({"item": where, "message": _l("第 %(n)d 行应为对象", n=index + 1)})
            continue
        before = len(problems)

        def problem(field: str, message: Any) -> None:
            problems.append({"item": f"{where}.{field}", "message": message})  # noqa: B023 (used at once)

        for key in sorted(set(row) - ENTRY_KEYS):
            problem(key, _l("不认识的字段 %(key)s", key=key))
        scheme = row.get("scheme")
        levels = grades.get(scheme) if isinstance(scheme, str) else None
        if levels is None:
            problem("scheme", _l("未知的评定方案：%(scheme)s", scheme=str(scheme)[:64]))
        code = row.get("grade_code")
        if isinstance(code, str) and code.strip().lstrip("-").isdigit():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int):
            problem("grade_code", _l("等级代码应为整数"))
        elif levels is not None and code not in levels:
            problem("grade_code", _l("方案 %(scheme)s 没有等级 %(code)s", scheme=scheme, code=code))
        label = levels[code].label.zh if levels is not None and code in levels else str(code)
        fen = _amount_fen(row.get("amount"))
        if fen is None:
            problem("amount", _l("%(grade)s：金额应为数字（元，至多两位小数）", grade=label))
        elif fen < 0:
            problem("amount", _l("%(grade)s：金额不能为负数", grade=label))
        elif fen > MAX_AMOUNT_FEN:
            problem("amount", _l("%(grade)s：金额过大（上限 1 亿元）", grade=label))
        period = row.get("period")
        if period not in REWARD_PERIODS:
            problem("period", _l("%(grade)s：发放周期应为每年（yearly）或一次性（one_off）", grade=label))
        note = row.get("note", "")
        if not isinstance(note, str) or len(note.strip()) > NOTE_MAX:
            problem("note", _l("说明应为不超过 %(n)d 字的文字", n=NOTE_MAX))
        valid_from = None
        try:
            valid_from = date.fromisoformat(str(row.get("valid_from") or "").strip())
        except ValueError:
            problem("valid_from", _l("%(grade)s：起始日期格式应为 年-月-日", grade=label))
        version = row.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            problem("version", _l("version 应为整数"))
        if len(problems) > before:
            continue
        assert isinstance(scheme, str) and isinstance(code, int) and valid_from is not None and fen is not None
        key = (scheme, code, str(period), valid_from)
        if key in seen:
            problem("valid_from", _l("%(grade)s：同一等级、周期和起始日期重复填写", grade=label))
            continue
        seen.add(key)
        entries.append(RewardEntry(scheme=scheme, grade_code=code, amount_fen=fen, period=str(period),
                                   note=str(note).strip(), valid_from=valid_from, version=version))
    return entries, problems


def reward_table(session: Session, organisation_id: int, scheme: str | None = None) -> list[GradeReward]:
    """One organisation's own rows, by scheme, grade and newest start first."""
    stmt = select(GradeReward).where(GradeReward.organisation_id == organisation_id)
    if scheme:
        stmt = stmt.where(GradeReward.scheme == scheme)
    stmt = stmt.order_by(GradeReward.scheme, GradeReward.grade_code, col(GradeReward.valid_from).desc())
    return list(session.execute(stmt).scalars())


def _ancestors(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[int]]:
    """{organisation id: [itself, parent, …, root]}."""
    paths = session.execute(select(Organisation.id, Organisation.path)
                            .where(col(Organisation.id).in_(list(set(organisation_ids)))))
    return {oid: [int(p) for p in reversed(path.strip("/").split("/")) if p] or [oid] for oid, path in paths}


class RewardBook:
    """The reward rows that can apply to some organisations, loaded once; `find` picks the
    nearest organisation's row in force on a day."""

    def __init__(self, session: Session, organisation_ids: Iterable[int]) -> None:
        self.chains = _ancestors(session, organisation_ids)
        everyone = {o for chain in self.chains.values() for o in chain}
        self.rows: dict[tuple[int, str, int, str], list[GradeReward]] = {}
        for row in session.execute(select(GradeReward).where(col(GradeReward.organisation_id).in_(everyone))
                                   .order_by(col(GradeReward.valid_from).desc())).scalars():
            self.rows.setdefault((row.organisation_id, row.scheme, row.grade_code, row.period), []).append(row)

    def find(self, organisation_id: int, scheme: str, code: int | None, on: date, period: str) -> GradeReward | None:
        if code is None:
            return None
        for org in self.chains.get(organisation_id, [organisation_id]):
            rows = self.rows.get((org, scheme, code, period))
            if rows:  # the nearest organisation with rows for this grade and period decides
                return next((r for r in rows if r.valid_from <= on), None)
        return None

    def find_all(self, organisation_id: int, scheme: str, code: int | None, on: date) -> list[GradeReward]:
        """The rows in force on `on`, one per period (yearly, one-off), paying something."""
        found = [self.find(organisation_id, scheme, code, on, period) for period in REWARD_PERIODS]
        return [r for r in found if r is not None and r.amount_fen > 0]


@dataclass
class Standing:
    """What a facility's grade brings it, or what it stands to lose."""

    grade: Grade | None
    rewards: list[GradeReward]
    is_unqualified: bool = False
    rectification_due: datetime | None = None
    at_stake: list[GradeReward] = field(default_factory=list)  # unqualified: if it still fails; disqualified: lost
    at_stake_grade: Grade | None = None


def standing(session: Session, facility: Facility, grade: Grade | None, on: date | None = None) -> Standing:
    """The reward of the facility's current grade; for an unqualified result (the latest approved
    inspection) its rectification deadline and the reward of the grade it held before; for a
    disqualified facility the reward it lost."""
    on = on or date.today()
    book = RewardBook(session, [facility.organisation_id])
    in_force = grade is not None and grade.valid_from <= on <= grade.valid_until
    rewards = (book.find_all(facility.organisation_id, grade.scheme, grade.code, on)
               if grade is not None and in_force and not facility.is_disqualified else [])
    result = Standing(grade=grade, rewards=rewards)
    latest = session.execute(select(Inspection).where(Inspection.facility_id == facility.id,
                                                      Inspection.status == "approved")
                             .order_by(col(Inspection.approved_at).desc(), col(Inspection.id).desc())
                             .limit(1)).scalars().first()
    if facility.is_disqualified:
        result.at_stake_grade = grade
    elif latest is not None and latest.is_unqualified:
        result.is_unqualified = True
        result.rectification_due = latest.rectification_due_at
        if grade is not None:  # the grade this result replaced
            result.at_stake_grade = session.execute(
                select(Grade).where(Grade.superseded_by_id == grade.id)
                .order_by(col(Grade.id).desc()).limit(1)).scalars().first()
    if result.at_stake_grade is not None:
        g = result.at_stake_grade
        result.at_stake = book.find_all(facility.organisation_id, g.scheme, g.code, on)
    return result


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def reward_groups(session: Session, *, organisation_ids: list[int], year: int,
                  today: date | None = None) -> tuple[date, list[tuple[int, str, str, int, int]]]:
    """(reference day, [(organisation id, district, period, facilities, amount in fen)]) of the
    rewards due for `year`. Yearly: each grade in force on the reference day (31 December, or
    today during the year) at a facility not disqualified by then, at the amount in force that
    day. One-off: each grade whose validity began in the year, at the amount in force on that
    day. Facilities are counted in SQL aggregates; only the groups (organisation, district,
    grade, day) come back to be priced."""
    today = today or date.today()
    start, reference = date(year, 1, 1), min(date(year, 12, 31), today)
    if reference < start or not organisation_ids:
        return reference, []
    end = _day_end(reference)
    in_scope = col(Facility.organisation_id).in_(organisation_ids)
    yearly = session.execute(
        select(Facility.organisation_id, Facility.district, Grade.scheme, Grade.code, func.count())
        .join(Facility, col(Facility.id) == Grade.facility_id)
        .where(in_scope, Grade.valid_from <= reference, Grade.valid_until >= reference, Grade.awarded_at < end,
               or_(col(Grade.superseded_at).is_(None), col(Grade.superseded_at) >= end),
               or_(col(Facility.disqualified_at).is_(None), col(Facility.disqualified_at) >= end))
        .group_by(Facility.organisation_id, Facility.district, Grade.scheme, Grade.code)).all()
    once = session.execute(
        select(Facility.organisation_id, Facility.district, Grade.scheme, Grade.code, Grade.valid_from, func.count())
        .join(Facility, col(Facility.id) == Grade.facility_id)
        .where(in_scope, Grade.valid_from >= start, Grade.valid_from <= reference, Grade.awarded_at < end)
        .group_by(Facility.organisation_id, Facility.district, Grade.scheme, Grade.code, Grade.valid_from)).all()
    book = RewardBook(session, {r[0] for r in yearly} | {r[0] for r in once})
    groups = [(org, district, scheme, code, reference, n, "yearly") for org, district, scheme, code, n in yearly]
    groups += [(org, district, scheme, code, day, n, "one_off") for org, district, scheme, code, day, n in once]
    priced = []
    for org, district, scheme, code, day, count, period in groups:
        reward = book.find(org, scheme, code, day, period)
        if reward is not None and reward.amount_fen > 0:
            priced.append((org, district or "", period, int(count), int(count) * reward.amount_fen))
    return reference, priced


def reward_totals(session: Session, *, organisation_ids: list[int], year: int,
                  today: date | None = None) -> dict[str, Any]:
    """Rewards due for `year` by district (the facilities' district field) and reward period
    (reward_groups says what counts): {"year", "as_of", "rows", "total_fen"}."""
    reference, groups = reward_groups(session, organisation_ids=organisation_ids, year=year, today=today)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _org, district, period, count, fen in groups:
        entry = rows.setdefault((district, period), {"district": district, "period": period,
                                                     "facilities": 0, "amount_fen": 0})
        entry["facilities"] += count
        entry["amount_fen"] += fen
    ordered = [rows[k] for k in sorted(rows)]
    return {"year": year, "as_of": reference.isoformat(), "rows": ordered,
            "total_fen": sum(r["amount_fen"] for r in ordered)}


def money(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators: 1234500 → "12,345.00"."""
    return f"{fen / 100:,.2f}"


def reward_json(row: GradeReward, grades: dict[str, dict[int, Any]] | None = None, lang: str = "zh") -> dict[str, Any]:
    grades = scheme_grades() if grades is None else grades
    level = grades.get(row.scheme, {}).get(row.grade_code)
    return {"id": row.id, "organisation_id": row.organisation_id, "scheme": row.scheme,
            "grade_code": row.grade_code, "grade_label": level.label.get(lang) if level else str(row.grade_code),
            "amount": f"{row.amount_fen / 100:.2f}", "amount_fen": row.amount_fen, "period": row.period,
            "note": row.note, "valid_from": row.valid_from.isoformat(), "version": row.version}
