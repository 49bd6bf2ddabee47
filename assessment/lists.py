"""Paged lists of elders, assessments and reassessments due: filtered, sorted and paged in SQL
(core.paging), scoped to the user's organisation subtree. Pages and the API share them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import Session

from accounts.models import User
from accounts.queries import org_scope, visible_org_ids
from assessment.idnumber import normalise_id_number
from assessment.models import (
    REASONS,
    STATUSES,
    Assessment,
    AssessmentSignature,
    Elder,
    ElderNameGram,
    ElderState,
)
from assessment.names import search_gram
from assessment.queries import DUE_SOON_DAYS
from core.paging import (
    COUNT_CAP,
    Page,
    PageParams,
    PagingError,
    Sort,
    attach,
    capped_count,
    choice_arg,
    in_ids,
    literal_contains,
    paginate,
)
from core.timeutil import day_start, local_today

DUE_KINDS = ("overdue", "soon", "all")


def date_arg(args: Mapping[str, Any], name: str) -> date | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PagingError(name, f"{name} 日期格式应为 YYYY-MM-DD") from None


def int_arg(args: Mapping[str, Any], name: str) -> int | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    text = str(value)
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 9):
        raise PagingError(name, f"{name} 应为整数")
    return int(text)


def _day_start(day: date) -> datetime:
    """Midnight of `day` in the organisation's time zone (core.timeutil), as aware UTC."""
    return day_start(day)


# --- elders -------------------------------------------------------------------------------------


def elders_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                count_cap: int | None = COUNT_CAP) -> tuple[Page, tuple[int, bool]]:
    """Elders by name (then id), with their current state. Filters: q (name contains, literal;
    through elder_name_gram in the list's order, see assessment.names),
    org (subtree), community (exact), level (current level code), due_from/due_to (next
    reassessment). `count_cap=None` skips the count (exports page through without it)."""
    orgs = org_scope(session, user, args.get("org"))
    stmt = select(Elder).where(in_ids(session, Elder.organisation_id, orgs))  # type: ignore[attr-defined]
    sort = [Sort(Elder.name), Sort(Elder.id)]
    q = str(args.get("q") or "").strip()
    number = normalise_id_number(q)
    if "*" in number and re.fullmatch(r"[\dX*]+", number):  # a masked ID number as shown in lists
        head, _, tail = number.partition("*")
        stmt = stmt.where(Elder.id_number_masked.startswith(head, autoescape=True))  # type: ignore[attr-defined]
        if tail.strip("*"):
            stmt = stmt.where(Elder.id_number_masked.endswith(tail.strip("*"), autoescape=True))  # type: ignore[attr-defined]
    elif q:  # the gram index, already in the list's order (assessment.names)
        gram, whole_text = search_gram(q)
        stmt = stmt.join(ElderNameGram, and_(ElderNameGram.elder_id == Elder.id,  # type: ignore[arg-type]
                                             ElderNameGram.gram == gram,
                                             in_ids(session, ElderNameGram.organisation_id, orgs)))  # type: ignore[attr-defined]
        sort = [Sort(ElderNameGram.name), Sort(ElderNameGram.elder_id)]  # the same values as name, id
        if whole_text:  # three characters or more: also the whole text (trigram index on PostgreSQL)
            stmt = stmt.where(literal_contains(Elder.name, q))
    community = str(args.get("community") or "").strip()
    if community:
        stmt = stmt.where(Elder.community == community)
    level = int_arg(args, "level")
    if level is not None:
        stmt = stmt.where(Elder.id.in_(select(ElderState.elder_id).where(ElderState.level_code == level)))  # type: ignore[union-attr]
    due_from, due_to = date_arg(args, "due_from"), date_arg(args, "due_to")
    if due_from or due_to:
        due = select(ElderState.elder_id)
        if due_from:
            due = due.where(ElderState.next_due_on >= due_from)  # type: ignore[operator]
        if due_to:
            due = due.where(ElderState.next_due_on <= due_to)  # type: ignore[operator]
        stmt = stmt.where(Elder.id.in_(due))  # type: ignore[union-attr]
    page = paginate(session, stmt, sort, key=lambda elder: (elder.name, elder.id), params=params, scalars=True)
    attach(session, page, ElderState, lambda elder: elder.id)
    return page, _count(session, stmt, count_cap)


# --- assessments --------------------------------------------------------------------------------


def assessments_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
                     count_cap: int | None = COUNT_CAP) -> tuple[Page, tuple[int, bool]]:
    """Assessments, most recently changed first. Filters: status, org (subtree), instrument,
    assessor (who started it), elder, from/to (last change, inclusive days), level (final level
    code), reason, current (1: not replaced by an amendment), community (the elder's),
    approved_from/approved_to (day of approval, inclusive), unsigned_by (a user id: submitted and
    not yet signed by them)."""
    orgs = org_scope(session, user, args.get("org"))
    stmt = select(Assessment).where(in_ids(session, Assessment.organisation_id, orgs))  # type: ignore[attr-defined]
    status = choice_arg(args, "status", list(STATUSES) + ["open"])
    if status == "open":
        stmt = stmt.where(Assessment.status != "approved")
    elif status:
        stmt = stmt.where(Assessment.status == status)
    instrument = str(args.get("instrument") or "").strip()
    if instrument:
        stmt = stmt.where(Assessment.instrument_id == instrument)
    for name, column in (("assessor", Assessment.created_by_id), ("elder", Assessment.elder_id)):
        value = int_arg(args, name)
        if value is not None:
            stmt = stmt.where(column == value)
    start, end = date_arg(args, "from"), date_arg(args, "to")
    if start:
        stmt = stmt.where(Assessment.updated_at >= _day_start(start))
    if end:
        stmt = stmt.where(Assessment.updated_at < _day_start(end + timedelta(days=1)))
    level = int_arg(args, "level")
    if level is not None:  # assessment.level_code: the result's final level, copied on every write
        stmt = stmt.where(Assessment.level_code == level)
    reason = choice_arg(args, "reason", list(REASONS))
    if reason:
        stmt = stmt.where(Assessment.reason == reason)
    if choice_arg(args, "current", ("0", "1")) == "1":  # not replaced by an amendment
        stmt = stmt.where(Assessment.superseded_by_id.is_(None))  # type: ignore[union-attr]
    community = str(args.get("community") or "").strip()
    if community:
        stmt = stmt.where(Assessment.elder_id.in_(  # type: ignore[attr-defined]
            select(Elder.id).where(in_ids(session, Elder.organisation_id, orgs), Elder.community == community)))  # type: ignore[attr-defined]
    stmt = _assessment_filters(stmt, args)
    page = paginate(session, stmt, [Sort(Assessment.updated_at, desc=True), Sort(Assessment.id, desc=True)],
                    key=lambda a: (a.updated_at, a.id), params=params, scalars=True)
    attach(session, page, Elder, lambda a: a.elder_id)
    return page, _count(session, stmt, count_cap)


def _count(session: Session, stmt: Any, cap: int | None) -> tuple[int, bool]:
    """The list's capped count, or none when the caller pages through without one (exports)."""
    return (0, False) if cap is None else capped_count(session, stmt, cap)


def _assessment_filters(stmt: Any, args: Mapping[str, Any]) -> Any:
    """The filters the inbox and the statistics link to: approval days and unsigned_by."""
    start, end = date_arg(args, "approved_from"), date_arg(args, "approved_to")
    if start:
        stmt = stmt.where(Assessment.approved_at >= _day_start(start))  # type: ignore[operator]
    if end:
        stmt = stmt.where(Assessment.approved_at < _day_start(end + timedelta(days=1)))  # type: ignore[operator]
    signer = int_arg(args, "unsigned_by")
    if signer is not None:
        signed = select(AssessmentSignature.assessment_id).where(AssessmentSignature.user_id == signer)
        stmt = stmt.where(Assessment.status == "submitted", Assessment.id.not_in(signed))  # type: ignore[union-attr]
    return stmt


# --- reassessments due --------------------------------------------------------------------------


@dataclass
class DueRow:
    elder: Elder
    state: ElderState
    due_on: date
    days_left: int


def _due_statement(session: Session, orgs: list[int], kind: str, today: date, soon_days: int) -> Any:
    stmt = (select(ElderState)
            .where(in_ids(session, ElderState.organisation_id, orgs),  # type: ignore[attr-defined]
                   ElderState.open_assessment_id.is_(None),  # type: ignore[union-attr]
                   ElderState.next_due_on.is_not(None)))  # type: ignore[union-attr]
    horizon = today + timedelta(days=soon_days)
    if kind == "overdue":
        return stmt.where(ElderState.next_due_on < today)  # type: ignore[operator]
    if kind == "soon":
        return stmt.where(and_(ElderState.next_due_on >= today, ElderState.next_due_on <= horizon))  # type: ignore[operator]
    return stmt.where(ElderState.next_due_on <= horizon)  # type: ignore[operator]


def due_page(session: Session, user: User, args: Mapping[str, Any], params: PageParams, *,
             today: date | None = None, soon_days: int = DUE_SOON_DAYS) -> Page:
    """Elders whose reassessment is overdue (`kind=overdue`), due within `soon_days` (`soon`)
    or either (`all`), earliest first; no assessment may be under way. Filters: org, level."""
    today = today or local_today()
    kind = choice_arg(args, "kind", DUE_KINDS) or "all"
    stmt = _due_statement(session, org_scope(session, user, args.get("org")), kind, today, soon_days)
    level = int_arg(args, "level")
    if level is not None:
        stmt = stmt.where(ElderState.level_code == level)
    page = paginate(session, stmt, [Sort(ElderState.next_due_on), Sort(ElderState.elder_id)],
                    key=lambda state: (state.next_due_on, state.elder_id), params=params, scalars=True)
    attach(session, page, Elder, lambda state: state.elder_id)
    page.items = [DueRow(elder, state, state.next_due_on, (state.next_due_on - today).days)
                  for state, elder in page.items]
    return page


def due_counts(session: Session, user: User, *, today: date | None = None, soon_days: int = DUE_SOON_DAYS,
               cap: int | None = COUNT_CAP) -> dict[str, tuple[int, bool]]:
    """(count, more than that) of overdue and due-soon elders, from the state table's partial
    index; `cap=None` counts them all (for commands, not pages)."""
    today = today or local_today()
    orgs = visible_org_ids(session, user)
    out = {}
    for kind in ("overdue", "soon"):
        stmt = _due_statement(session, orgs, kind, today, soon_days)
        if cap is None:
            out[kind] = (session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one(), False)
        else:
            out[kind] = capped_count(session, stmt, cap)
    return out


def stream_due(session: Session, organisation_ids: list[int], *, today: date, soon_days: int,
               kind: str = "all", batch: int = 1000) -> Any:
    """Every due row, earliest first, read batch by batch through the keyset (bounded memory)."""
    stmt = _due_statement(session, organisation_ids, kind, today, soon_days)
    params = PageParams(limit=batch)
    while True:
        page = paginate(session, stmt, [Sort(ElderState.next_due_on), Sort(ElderState.elder_id)],
                        key=lambda state: (state.next_due_on, state.elder_id), params=params, scalars=True)
        attach(session, page, Elder, lambda state: state.elder_id)
        for state, elder in page.items:
            yield DueRow(elder, state, state.next_due_on, (state.next_due_on - today).days)
            for obj in (state, elder):  # bounded memory: the session forgets what was written
                if obj in session:
                    session.expunge(obj)
        if page.next_cursor is None:
            return
        params = PageParams(cursor=page.next_cursor, limit=batch)
