"""The life of inspections, corrective actions, grades and certificates as tables (see
core.workflow and docs/architecture.md#workflows).

    inspection: planned/in_progress --save--> in_progress --submit--> submitted
                submitted --approve (administrator)--> approved
                submitted --return (administrator, with a reason)--> in_progress
    action:     open/escalated --submit_evidence--> evidence_submitted --verify--> closed
                evidence_submitted --return--> open (or escalated, if it had been)
                open --escalate (overdue)--> escalated; a passed re-inspection closes it
    grade:      current --supersede (a newer inspection's grade)--> superseded;
                current --issue_certificate--> current
    certificate: issued --revoke--> revoked

Separation of duties: whoever inspected cannot approve or return the inspection nor issue the
certificate of its grade, even holding the administrator role as well.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from core.i18n import N_
from core.workflow import Context, Refusal, Workflow
from rating.models import (
    ACTION_STATUSES,
    INSPECTION_STATUSES,
    Certificate,
    Facility,
    Grade,
    Inspection,
)

STAFF = ("admin", "inspector")
ALL = ("admin", "inspector", "operator")


def inspected_by(inspection: Inspection) -> set[int]:
    """Who inspected: the drawn or assigned inspectors and whoever submitted the checklist."""
    people = {int(i) for i in inspection.inspector_ids or [] if isinstance(i, int)}
    if inspection.submitted_by_id is not None:
        people.add(inspection.submitted_by_id)
    return people


def separation_of_duties(inspection: Inspection, user: Any, context: Context) -> Refusal | None:
    if not context.get("separation_of_duties", True) or user is None:
        return None
    if user.id in inspected_by(inspection):
        return Refusal(N_("职责分离：您参与了这次检查，不能再审批或退回它，请由另一位管理员处理。"),
                       403, "separation_of_duties")
    return None


def has_result(inspection: Inspection, user: Any, context: Context) -> Refusal | None:
    return None if inspection.result else Refusal(N_("检查尚未评分，不能审批。"), 409, "no_result")


def _nothing_built_on_it(inspection: Inspection, user: Any, context: Context) -> Refusal | None:
    """A return withdraws the result and its corrective actions: refused once the facility has
    answered an action, or once a failed re-inspection has withdrawn the facility's qualification."""
    from rating.models import CorrectiveAction

    if context.session is None:
        return None
    answered = context.session.exec(select(CorrectiveAction.id).where(
        CorrectiveAction.inspection_id == inspection.id, CorrectiveAction.status != "open")).first()
    if answered is not None:
        return Refusal(N_("机构已对本次检查的整改项提交材料，不能再退回；请审批后另行复查。"), 409, "actions_answered")
    if inspection.is_reinspection and inspection.is_unqualified:
        return Refusal(N_("复查不合格的结论已生效（已取消服务提供资格），不能退回。"), 409, "concluded")
    return None


INSPECTION = Workflow(
    "inspection",
    states=INSPECTION_STATUSES,
    transitions={
        ("planned", "save"): "in_progress",
        ("in_progress", "save"): "in_progress",
        ("planned", "submit"): "submitted",
        ("in_progress", "submit"): "submitted",
        ("submitted", "approve"): "approved",
        ("submitted", "return"): "in_progress",
        ("submitted", "reinspect"): "submitted",
        ("approved", "reinspect"): "approved",
    },
    roles={"save": STAFF, "submit": STAFF, "approve": ("admin",), "return": ("admin",), "reinspect": STAFF},
    labels={"save": N_("保存"), "submit": N_("提交并评分"), "approve": N_("审批并授予等级"),
            "return": N_("退回并说明原因"), "reinspect": N_("开始复查")},
    refusals={("*", "save"): N_("检查已提交，不能再修改"), ("*", "approve"): N_("只能审批已提交的检查"),
              ("*", "return"): N_("只能退回已提交、未审批的检查"), ("*", "submit"): N_("检查已提交")},
    guards={"approve": [has_result, separation_of_duties], "return": [separation_of_duties, _nothing_built_on_it]},
)


def _was_escalated(action: Any, user: Any, context: Context) -> Refusal | None:
    return None if action.escalated_at else Refusal(N_("该整改项未曾升级。"), 409, "not_escalated")


def _not_escalated(action: Any, user: Any, context: Context) -> Refusal | None:
    return Refusal(N_("该整改项已升级。"), 409, "escalated") if action.escalated_at else None


ACTION = Workflow(
    "corrective_action",
    states=ACTION_STATUSES,
    transitions={
        ("open", "submit_evidence"): "evidence_submitted",
        ("escalated", "submit_evidence"): "evidence_submitted",
        ("evidence_submitted", "submit_evidence"): "evidence_submitted",
        ("evidence_submitted", "verify"): "closed",
        ("evidence_submitted", "return"): "open",
        ("evidence_submitted", "return_escalated"): "escalated",
        ("open", "escalate"): "escalated",
        ("open", "close_by_reinspection"): "closed",
        ("escalated", "close_by_reinspection"): "closed",
        ("evidence_submitted", "close_by_reinspection"): "closed",
    },
    roles={"submit_evidence": ALL, "verify": STAFF, "return": STAFF, "return_escalated": STAFF,
           "escalate": STAFF, "close_by_reinspection": STAFF},
    labels={"submit_evidence": N_("提交整改材料"), "verify": N_("核验通过"), "return": N_("退回整改"),
            "return_escalated": N_("退回整改"), "escalate": N_("逾期升级"), "close_by_reinspection": N_("复查合格关闭")},
    refusals={("closed", "submit_evidence"): N_("该整改项已核验关闭"), ("*", "verify"): N_("尚未提交整改材料，无法核验"),
              ("*", "return"): N_("尚未提交整改材料，无法退回"), ("*", "return_escalated"): N_("尚未提交整改材料，无法退回")},
    guards={"return": [_not_escalated], "return_escalated": [_was_escalated]},
)


def grade_state(grade: Grade) -> str:
    return "superseded" if grade.superseded_by_id is not None else "current"


def _has_level(grade: Grade, user: Any, context: Context) -> Refusal | None:
    return None if grade.code > 0 else Refusal(N_("未达到等级，不发证书"), 422, "no_level")


def _facility_qualified(grade: Grade, user: Any, context: Context) -> Refusal | None:
    facility = context.session.get(Facility, grade.facility_id) if context.session is not None else None
    if facility is not None and facility.is_disqualified:
        return Refusal(N_("该机构已被取消服务提供资格，不能发证"), 409, "disqualified")
    return None


def _no_certificate_yet(grade: Grade, user: Any, context: Context) -> Refusal | None:
    if context.get("allow_existing") or context.session is None:
        return None
    issued = context.session.exec(select(Certificate.id).where(Certificate.grade_id == grade.id)).first()
    return Refusal(N_("该等级已发证"), 409, "already_issued") if issued is not None else None


def _issuer_did_not_inspect(grade: Grade, user: Any, context: Context) -> Refusal | None:
    if not context.get("separation_of_duties", True) or user is None or context.session is None:
        return None
    inspection = context.session.get(Inspection, grade.inspection_id)
    if inspection is not None and user.id in inspected_by(inspection):
        return Refusal(N_("职责分离：您参与了这次检查，不能为它的等级发证，请由另一位管理员发证。"),
                       403, "separation_of_duties")
    return None


GRADE = Workflow(
    "grade",
    states={"current": N_("有效"), "superseded": N_("已被新等级取代")},
    transitions={("current", "supersede"): "superseded", ("current", "issue_certificate"): "current"},
    roles={"supersede": ("admin",), "issue_certificate": ("admin",)},
    labels={"supersede": N_("被新等级取代"), "issue_certificate": N_("发放证书")},
    refusals={("superseded", "issue_certificate"): N_("该等级已被新等级取代，不再发证")},
    guards={"issue_certificate": [_has_level, _facility_qualified, _no_certificate_yet,
                                  _issuer_did_not_inspect]},
    state=grade_state,
)

CERTIFICATE = Workflow(
    "certificate",
    states={"issued": N_("已发放"), "revoked": N_("已撤销")},
    transitions={("issued", "revoke"): "revoked"},
    roles={"revoke": ("admin",)},
    labels={"revoke": N_("撤销证书")},
    state=lambda certificate: "revoked" if certificate.revoked_at is not None else "issued",
)

INSPECTION_EDGES = INSPECTION.edges
ACTION_EDGES = ACTION.edges
