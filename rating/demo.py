"""Demo data for rating: graded facilities, a random plan, open and overdue corrective actions,
an unqualified station waiting for re-inspection, issued certificates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from core.timeutil import utcnow
from rating import operations as ops

FACILITIES = [
    ("district1", "东城区福寿养老院", "institution", "东城区", "福寿路 12 号", 260, "福寿养老服务有限公司", date(2012, 6, 1)),
    ("district1", "东城区康乐颐养中心", "institution", "东城区", "康乐街 3 号", 180, "康乐健康集团", date(2016, 9, 15)),
    ("district2", "西城区夕阳红护理院", "institution", "西城区", "夕阳路 88 号", 120, "夕阳红护理院", date(2019, 3, 20)),
    ("district2", "西城区新苗养老公寓", "institution", "西城区", "新苗巷 5 号", 60, "新苗养老公寓", utcnow().date() - timedelta(days=150)),
    ("district1", "和平街道养老服务中心", "community_center", "东城区", "和平街 20 号", 30, "和平社会工作服务社", date(2020, 1, 6)),
    ("district1", "和平里社区养老服务站", "station", "东城区", "和平里 7 号楼", 8, "和平社会工作服务社", date(2021, 5, 10)),
    ("district2", "西城区长青社区养老服务站", "station", "西城区", "长青路 2 号", 6, "长青居家养老服务社", date(2021, 8, 1)),
]

LEVEL4 = {"environment": 100, "facilities": 110, "operations": 130, "services": 500}
LEVEL5 = {"environment": 112, "facilities": 122, "operations": 140, "services": 560}
STARS5 = {"facilities": 28, "operations": 28, "services": 38}
STAR_FAIL = {
    "facilities.F1": "fail", "facilities.F2": 4, "facilities.F3": 2, "facilities.F4": "partial", "facilities.F5": 2,
    "operations.O1": "partial", "operations.O2": 3, "operations.O3": 0, "operations.O4": "pass", "operations.O5": "fail",
    "services": 20,
}


def _inspect(session: Session, actor: Any, facility: Any, scheme: str, answers: dict[str, Any], *,
             days_ago: int = 0, plan: Any = None, notes: dict[str, str] | None = None) -> Any:
    inspection = ops.start_inspection(session=session, actor=actor, facility=facility, scheme=scheme, plan=plan)
    ops.save_answers(session=session, actor=actor, inspection=inspection, answers=answers, facts={"veto": []},
                     notes=notes or {}, version=inspection.version)
    ops.submit_inspection(session=session, actor=actor, inspection=inspection,
                          now=utcnow() - timedelta(days=days_ago))
    return inspection


def seed_demo(*, session: Session, context: Any) -> None:
    """Add the rating demo records (called once by `yiyang demo` on a fresh database)."""
    orgs, users = context.organisations, context.users
    admin, inspector = users["admin"], users["inspector1"]
    made = {}
    for org_key, name, kind, district, address, beds, operator, opened in FACILITIES:
        made[name] = ops.create_facility(session=session, actor=admin, organisation_id=orgs[org_key].id, data={
            "name": name, "kind": kind, "district": district, "address": address, "beds": beds,
            "operator": operator, "filing_status": "filed", "opened_on": opened})
    plan = ops.create_plan(session=session, actor=admin, organisation_id=orgs["city"].id,
                           name="2026 年度养老机构等级评定（第一轮）", scheme="gbt37276-2018",
                           method="manual", seed="demo-2026-round-1",
                           facility_ids=[made["东城区福寿养老院"].id, made["东城区康乐颐养中心"].id])
    ops.publish_plan(session=session, actor=admin, plan=plan)
    ops.create_plan(session=session, actor=admin, organisation_id=orgs["city"].id,
                    name="2026 年社区养老服务设施双随机抽查", scheme="community-star", method="share",
                    share=0.5, seed="demo-2026-random")

    five = _inspect(session, inspector, made["东城区福寿养老院"], "gbt37276-2018", LEVEL5, plan=plan)
    four = _inspect(session, inspector, made["东城区康乐颐养中心"], "gbt37276-2018", LEVEL4, plan=plan)
    star = _inspect(session, inspector, made["和平街道养老服务中心"], "community-star", STARS5)
    grades = [ops.approve_inspection(session=session, actor=admin, inspection=i) for i in (five, four, star)]
    ops.issue_batch(session=session, actor=admin, grades=grades)
    # DEMO figures only: the standards give no amounts (docs/rating.md, "等级奖补"). Each note says so.
    year_start = date(utcnow().year, 1, 1).isoformat()
    demo = "演示数据，非真实标准"
    ops.save_grade_rewards(session=session, actor=admin, organisation=orgs["city"], rewards=[
        {"scheme": "gbt37276-2018", "grade_code": 5, "amount": "200000", "period": "yearly",
         "valid_from": year_start, "note": f"运营补贴（{demo}）"},
        {"scheme": "gbt37276-2018", "grade_code": 4, "amount": "120000", "period": "yearly",
         "valid_from": year_start, "note": f"运营补贴（{demo}）"},
        {"scheme": "community-star", "grade_code": 5, "amount": "50000", "period": "yearly",
         "valid_from": year_start, "note": f"运营经费奖励（{demo}）"},
        {"scheme": "community-star", "grade_code": 4, "amount": "30000", "period": "yearly",
         "valid_from": year_start, "note": f"运营经费奖励（{demo}）"},
        {"scheme": "community-star", "grade_code": 3, "amount": "10000", "period": "yearly",
         "valid_from": year_start, "note": f"运营经费奖励（{demo}）"},
        {"scheme": "medal-example", "grade_code": 3, "amount": "30000", "period": "one_off",
         "valid_from": year_start, "note": f"金牌一次性奖励（{demo}）"},
    ])

    # An unqualified station inspected 40 days ago: critical and major actions are overdue,
    # the minor ones still open, and the rectification deadline has passed (re-inspection due).
    _inspect(session, inspector, made["西城区长青社区养老服务站"], "community-star", STAR_FAIL, days_ago=40,
             notes={"facilities.F3": "二楼走廊灭火器过期，安全出口堆放杂物"})
    # A recent one: its actions are open and due soon or later.
    _inspect(session, inspector, made["和平里社区养老服务站"], "community-star",
             {**STAR_FAIL, "facilities.F1": "pass", "services": 36}, days_ago=2)
    # An institution under a year old: vetoed automatically; and one inspection in progress.
    _inspect(session, inspector, made["西城区新苗养老公寓"], "gbt37276-2018", LEVEL4)
    draft = ops.start_inspection(session=session, actor=inspector, facility=made["西城区夕阳红护理院"],
                                 scheme="gbt37276-2018")
    ops.save_answers(session=session, actor=inspector, inspection=draft,
                     answers={"environment": 96, "facilities": 104}, facts={"veto": []}, version=draft.version)
