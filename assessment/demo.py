"""Demo data: an entitlement table and a few assessed elders, so a newcomer sees a populated
system (a locked result, one due soon, one overdue, one awaiting signatures, one signed by both
assessors and waiting for the reviewer, one draft)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from assessment import operations as ops
from assessment.counts import count_approval
from assessment.idnumber import check_digit
from assessment.models import AssessmentSignature
from assessment.state import refresh_elder_state
from core.crypto import cipher
from core.timeutil import utcnow

ENTITLEMENTS = {  # level → (services, monthly subsidy in yuan); an example table, not policy
    0: (["健康管理", "文体活动"], 0),
    1: (["助餐", "助洁", "健康管理"], 100),
    2: (["助餐", "助浴", "日间照料"], 300),
    3: (["助餐", "助浴", "上门护理", "日间照料"], 600),
    4: (["上门护理", "助浴", "机构照护优先"], 900),
}

# name, gender, birth date, phone, pick (option index per item: 0 best), status, months since approval
PEOPLE = [
    ("王秀英", "female", date(1941, 3, 8), "13800010001", 0, "approved", 2),
    ("李建国", "male", date(1938, 11, 20), "13800010002", 2, "approved", 11.5),
    ("张桂芳", "female", date(1936, 6, 1), "13800010003", 3, "approved", 14),
    ("刘德明", "male", date(1944, 9, 15), "13800010004", 1, "submitted", 0),
    ("陈玉兰", "female", date(1947, 1, 30), "", 1, "draft", 0),
    ("赵淑珍", "female", date(1942, 5, 18), "13800010006", 2, "signed", 0),
]


def demo_id_number(birth: date, serial: int, gender: str) -> str:
    """A valid-looking GB 11643 number in the fictional region 110101 (demo only)."""
    sequence = serial * 2 + (1 if gender == "male" else 0)  # odd 17th digit = male
    first17 = f"110101{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def _answers(definition: Any, pick: int) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in definition.items.values():
        if item.type == "single_choice" and item.options:
            answers[item.id] = item.options[min(pick, len(item.options) - 1)].value
    if pick >= 3 and "A.4.1" in definition.items:  # a diagnosis that raises the level (C.4)
        answers["A.4.1"] = ["F00-F03"]
    return answers


def seed_demo(*, session: Session, context: Any) -> None:
    """Create the demo entitlement table and assessed elders (called by `yiyang demo`)."""
    import instruments

    definition = instruments.builtin()["gbt42195-2022"]
    orgs, users = context.organisations, context.users
    admin, reviewer = users["admin"], users["reviewer1"]
    assessors = [users["assessor1"], users["assessor2"]]
    for level, (services, yuan) in ENTITLEMENTS.items():
        ops.set_entitlement(session=session, actor=admin, organisation=orgs["city"], instrument_id=definition.id,
                            level_code=level, services=services, monthly_subsidy_fen=yuan * 100,
                            note="示例配置，请按本地政策修改")
    field_cipher = cipher()
    for serial, (name, gender, birth, phone, pick, status, months_ago) in enumerate(PEOPLE, start=1):
        elder = ops.register_elder(
            session=session, actor=assessors[0], organisation=orgs["district1"], cipher=field_cipher,
            duplicate_scope=[orgs["district1"].id],
            data=ops.ElderInput(name=name, gender=gender, birth_date=birth,
                                id_number=demo_id_number(birth, serial, gender), phone=phone,
                                address=f"示例市东城区和平街 {serial} 号", community="和平社区",
                                contact_name=f"{name[0]}家属", legal_basis="statutory"))
        assessment = ops.start_assessment(session=session, actor=assessors[0], elder=elder,
                                          definition=definition, reason="initial", place="老人家中")
        ops.save_answers(session=session, actor=assessors[0], assessment=assessment, definition=definition,
                         answers=_answers(definition, pick) if status != "draft"
                         else dict(list(_answers(definition, pick).items())[:8]),
                         version=assessment.version, section="B1")
        if status == "draft":
            continue
        ops.submit_assessment(session=session, actor=assessors[0], assessment=assessment, definition=definition)
        if status == "signed":  # both assessors signed: the reviewer's queue
            digest = ops.answers_digest(assessment)
            for signer in assessors:
                session.add(AssessmentSignature(assessment_id=assessment.id or 0, user_id=signer.id or 0,
                                                role="assessor", answers_hash=digest))
            assessment.status = "signed"
            session.add(assessment)
            continue
        if status != "approved":
            continue
        when = utcnow() - timedelta(days=int(months_ago * 30.4))
        digest = ops.answers_digest(assessment)
        for offset, (signer, role) in enumerate([(assessors[0], "assessor"), (assessors[1], "assessor"),
                                                  (reviewer, "reviewer")]):
            session.add(AssessmentSignature(assessment_id=assessment.id or 0, user_id=signer.id or 0, role=role,
                                            answers_hash=digest, signed_at=when + timedelta(minutes=10 * offset)))
        assessment.submitted_at = when - timedelta(minutes=5)
        assessment.created_at = when - timedelta(hours=1)
        assessment.status, assessment.reviewer_id = "approved", reviewer.id
        assessment.approved_at = when + timedelta(minutes=20)
        session.add(assessment)
        refresh_elder_state(session, elder.id)
        count_approval(session, assessment)
    session.flush()
