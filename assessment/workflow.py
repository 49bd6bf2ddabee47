"""The life of an assessment as a table (see core.workflow and docs/architecture.md#workflows).

    draft --submit--> submitted --sign (more needed)--> submitted
    submitted --sign_last--> signed --approve (reviewer)--> approved
    submitted/signed --reopen (assessor) or return (reviewer, with a reason)--> draft
    approved --amend--> approved (a new draft version is opened; this one stays as it was)

Guards say what a table cannot: how many assessors have signed, that nobody signs twice, that
the reviewer did not take part in the assessment (separation of duties), one open amendment.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from assessment.models import STATUSES, Assessment, AssessmentSignature
from core.i18n import N_
from core.workflow import Context, Refusal, Workflow

ACTION_LABELS = {
    "save": N_("保存"),
    "submit": N_("提交并计分"),
    "sign": N_("签名确认"),
    "sign_last": N_("签名确认"),
    "approve": N_("审核通过并锁定"),
    "reopen": N_("退回修改"),
    "return": N_("退回并说明原因"),
    "amend": N_("发起更正"),
}


def _signatures(record: Assessment, context: Context) -> list[AssessmentSignature]:
    cached = context.get("signatures")
    if cached is not None:
        return list(cached)
    if context.session is None or record.id is None:
        return []
    rows = list(context.session.exec(select(AssessmentSignature).where(
        AssessmentSignature.assessment_id == record.id)))
    context.extra["signatures"] = rows
    return rows


def _assessor_count(record: Assessment, context: Context) -> int:
    return sum(1 for s in _signatures(record, context) if s.role == "assessor")


def _required(context: Context) -> int:
    return int(context.get("required_signatures", 2))


def not_signed_yet(record: Assessment, user: Any, context: Context) -> Refusal | None:
    if user is not None and any(s.user_id == user.id for s in _signatures(record, context)):
        return Refusal(N_("您已经签过名了；需要另一位人员签名。"), 409, "already_signed")
    return None


def more_signatures_needed(record: Assessment, user: Any, context: Context) -> Refusal | None:
    if _assessor_count(record, context) + 1 >= _required(context):
        return Refusal(N_("这将是最后一位评估员签名。"), 409, "last_signature")
    return None


def last_signature(record: Assessment, user: Any, context: Context) -> Refusal | None:
    count = _assessor_count(record, context)
    if count + 1 < _required(context) or (record.status == "signed" and count >= _required(context)):
        return Refusal(N_("评估员签名人数不符。"), 409, "signature_count")
    return None


def all_assessors_signed(record: Assessment, user: Any, context: Context) -> Refusal | None:
    if _assessor_count(record, context) < _required(context):
        return Refusal(N_("需要评估员先签名。"), 409, "assessor_required")
    return None


def participants(record: Assessment, context: Context) -> set[int]:
    """Who assessed: the person who submitted it and every assessor who signed it."""
    people = {s.user_id for s in _signatures(record, context) if s.role == "assessor"}
    if record.submitted_by_id is not None:
        people.add(record.submitted_by_id)
    return people


def separation_of_duties(record: Assessment, user: Any, context: Context) -> Refusal | None:
    """The reviewer cannot review an assessment they took part in, even holding both roles."""
    if not context.get("separation_of_duties", True) or user is None:
        return None
    if user.id in participants(record, context):
        return Refusal(N_("职责分离：您参与了这份评估（提交或签名），不能再审核或退回它，请由另一位审核员处理。"),
                       403, "separation_of_duties")
    return None


def not_superseded(record: Assessment, user: Any, context: Context) -> Refusal | None:
    if record.superseded_by_id:
        return Refusal(N_("该评估已有更新的版本，请在最新版本上更正。"), 409, "superseded")
    if context.session is not None and record.id is not None:
        open_amendment = context.session.exec(select(Assessment.id).where(
            Assessment.amends_id == record.id)).first()
        if open_amendment is not None:
            return Refusal(N_("该评估已有一份进行中的更正。"), 409, "amendment_pending")
    return None


ASSESSMENT = Workflow(
    "assessment",
    states=STATUSES,
    transitions={
        ("draft", "save"): "draft",
        ("draft", "submit"): "submitted",
        ("submitted", "sign"): "submitted",
        ("submitted", "sign_last"): "signed",
        ("signed", "sign_last"): "signed",
        ("signed", "approve"): "approved",
        ("submitted", "reopen"): "draft",
        ("signed", "reopen"): "draft",
        ("submitted", "return"): "draft",
        ("signed", "return"): "draft",
        ("approved", "amend"): "approved",
    },
    roles={
        "save": ("assessor",), "submit": ("assessor",), "sign": ("assessor",), "sign_last": ("assessor",),
        "approve": ("reviewer",), "reopen": ("assessor",), "return": ("reviewer",),
        "amend": ("assessor", "reviewer"),
    },
    labels=ACTION_LABELS,
    refusals={
        ("draft", "sign"): N_("请先提交评估，再签名。"), ("draft", "sign_last"): N_("请先提交评估，再签名。"),
        ("draft", "approve"): N_("请先提交评估，再签名。"),
        ("submitted", "approve"): N_("需要评估员先签名。"),
        ("approved", "sign"): N_("评估已审核锁定。"), ("approved", "sign_last"): N_("评估已审核锁定。"),
        ("approved", "approve"): N_("评估已审核锁定。"),
        ("*", "save"): N_("评估已提交，不能再修改答案。如需修改，请先退回草稿或发起更正。"),
        ("*", "reopen"): N_("只有已提交、未审核的评估可以退回修改。"),
        ("*", "return"): N_("只有已提交、未审核的评估可以退回。"),
        ("*", "amend"): N_("只有已审核锁定的评估需要通过更正修改。"),
    },
    guards={
        "sign": [not_signed_yet, more_signatures_needed],
        "sign_last": [not_signed_yet, last_signature],
        "approve": [separation_of_duties, not_signed_yet, all_assessors_signed],
        "return": [separation_of_duties],
        "amend": [not_superseded],
    },
)

# Every (state before, state after) an assessment step may produce: what the property tests check.
ASSESSMENT_EDGES = ASSESSMENT.edges
