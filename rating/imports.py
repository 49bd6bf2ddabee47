"""Importing care facilities from a spreadsheet (docs/import.md): the columns, the checks of a row
(the registry's own: rating.operations.facilities.check_facility) and the batch insert, each new
facility with its state row.

A facility is the one already registered when an organisation the importer can see holds a
facility of the same name (spaces ignored): importing the same list twice adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from accounts.models import User
from accounts.queries import OrganisationNames
from core.i18n import N_
from core.tabular import Column, Row, parse_choice, parse_date
from core.timeutil import utcnow
from core.validation import length_problems
from imports.registry import Checked, Importer, register
from rating.models import FACILITY_KINDS, FILING_STATUSES, Facility, FacilityState
from rating.operations.facilities import check_facility

COLUMNS = (
    Column("name", N_("机构名称"), "Name", ("名称", "facility", "facility name"), required=True, example="幸福养老院"),
    Column("kind", N_("机构类型"), "Kind", ("类型", "type"), required=True, example="养老机构"),
    Column("organisation", N_("所属机构"), "Organisation", ("主管机构", "organization", "街道")),
    Column("district", N_("区县"), "District", ("区/县", "所在区县")),
    Column("address", N_("地址"), "Address", ("住址",)),
    Column("beds", N_("床位数"), "Beds", ("床位",), example="120"),
    Column("operator", N_("运营方"), "Operator", ("运营单位", "举办者")),
    Column("filing_status", N_("备案状态"), "Filing status", ("备案",), example="已登记备案"),
    Column("opened_on", N_("开业日期"), "Opened on", ("opened", "开业时间"), example="2015-06-01"),
)
_SPACE = re.compile(r"\s+")


def name_key(name: str) -> str:
    return _SPACE.sub("", name)


@dataclass
class FacilityImport:
    session: Session
    actor: User
    orgs: OrganisationNames
    now: Any


@register
class FacilityImporter(Importer):
    kind = "facilities"
    title = N_("养老服务机构")
    columns = COLUMNS
    audit_action = "rating.facility.import"
    duplicate_message = N_("该机构已登记，跳过。")

    def start(self, *, session: Session, actor: User, commit: bool) -> FacilityImport:
        return FacilityImport(session=session, actor=actor, orgs=OrganisationNames(session, actor), now=utcnow())

    def check(self, context: FacilityImport, rows: list[Row]) -> list[Checked]:
        out: list[Checked] = []
        for row in rows:
            values, problems = row.values, []
            get = values.get
            org_id = context.orgs.default_id
            if get("organisation"):
                org_id, reason = context.orgs.find(get("organisation", ""))
                if reason:
                    problems.append(("organisation", reason))
            beds: Any = 0
            if get("beds"):
                beds = int(get("beds", "")) if get("beds", "").isdigit() else get("beds")
            opened: Any = None
            if get("opened_on"):
                opened = parse_date(get("opened_on", "")) or get("opened_on")
            data = {"name": get("name", ""), "kind": parse_choice(get("kind", ""), FACILITY_KINDS) or get("kind", ""),
                    "district": get("district", ""), "address": get("address", ""), "beds": beds,
                    "operator": get("operator", ""),
                    "filing_status": (parse_choice(get("filing_status", ""), FILING_STATUSES) or get("filing_status"))
                    if get("filing_status") else "filed",
                    "opened_on": opened}
            for error in check_facility(data):
                problems.append((error["item"], error["message"]))
            problems += length_problems(Facility, values, ("name", "district", "address", "operator"))
            key = f"{org_id}:{name_key(get('name', ''))}" if org_id is not None and get("name") else None
            out.append(Checked(row=row, problems=problems, key=key, key_column="name",
                               record=None if problems else (org_id, data)))
        wanted = {name_key(c.row.values.get("name", "")) for c in out if c.key}
        if wanted:
            found = context.session.execute(
                select(Facility.organisation_id, Facility.name)
                .where(func.replace(Facility.name, " ", "").in_(wanted)))
            registered = {f"{org}:{name_key(name)}" for org, name in found if org in context.orgs.paths}
            for item in out:
                item.exists = item.key in registered
        return out

    def insert(self, context: FacilityImport, records: list[Any]) -> list[int]:
        rows = [{"organisation_id": org_id, "operator_organisation_id": None, "name": data["name"].strip(),
                 "kind": data["kind"], "district": data["district"].strip(), "address": data["address"].strip(),
                 "beds": int(data["beds"] or 0), "operator": data["operator"].strip(),
                 "filing_status": data["filing_status"], "opened_on": data["opened_on"], "is_disqualified": False,
                 "disqualified_at": None, "disqualified_reason": None, "version": 1, "created_at": context.now}
                for org_id, data in records]
        table = Facility.__table__  # type: ignore[attr-defined]
        created = context.session.execute(insert(table).returning(table.c.id, table.c.organisation_id), rows).all()
        # A new facility's state: no grade, no action, no inspection (rating.state.compute_states).
        context.session.execute(insert(FacilityState.__table__), [  # type: ignore[attr-defined]
            {"facility_id": fid, "organisation_id": org, "grade_id": None, "grade_code": None, "grade_label": None,
             "grade_valid_until": None, "open_action_count": 0, "inspection_count": 0} for fid, org in created])
        return [fid for fid, _org in created]
