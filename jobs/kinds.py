"""The built-in job kinds: report and certificate batches, escalation, reminders, audit check.

Another package adds a kind with one `@register(...)` in its own `jobs` module (e.g.
`assessment/jobs.py` for exports and imports); `jobs.load_kinds` imports it.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from accounts.models import Organisation
from audit import record_event
from core.db import valid_id
from jobs.registry import JobFailed, ParamError, no_params, register
from jobs.runner import JobContext

MAX_REPORTS = 500


def _org_ids(session: Session, actor: Any) -> list[int]:
    """The organisations a job works on: the user's subtree, or every one for a schedule."""
    if actor is None:
        return [o.id for o in session.exec(select(Organisation)) if o.id is not None]
    from accounts.queries import subtree_ids

    return subtree_ids(session, actor.organisation_id)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """One document (a module-level name, so a test can make a step fail)."""
    from reports import render_pdf as render

    return render(template, context)


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


def _assessment_ids(params: dict[str, Any], actor: Any, session: Session) -> dict[str, Any]:
    from assessment.models import Assessment

    for key in params:
        if key != "assessment_ids":
            raise ParamError(f"params.{key}", f"不接受的参数 {key}")
    ids = params.get("assessment_ids")
    if not isinstance(ids, list) or not ids:
        raise ParamError("params.assessment_ids", "assessment_ids 应为非空的编号列表")
    if len(ids) > MAX_REPORTS:
        raise ParamError("params.assessment_ids", f"一次最多 {MAX_REPORTS} 份报告")
    clean: list[int] = []
    allowed = set(_org_ids(session, actor))
    for position, value in enumerate(ids):
        key = valid_id(value)
        found = session.get(Assessment, key) if key is not None else None
        if found is None or found.organisation_id not in allowed:
            raise ParamError(f"params.assessment_ids[{position}]", f"评估 {value} 不存在或无权查看")
        if found.result is None:
            raise ParamError(f"params.assessment_ids[{position}]", f"评估 {value} 尚未提交，没有报告")
        if key not in clean:
            clean.append(key)  # type: ignore[arg-type]
    return {"assessment_ids": clean}


@register("reports.zip", title=_l("评估报告打包下载"), roles=("admin", "assessor", "reviewer"),
          validate=_assessment_ids)
def reports_zip(ctx: JobContext) -> dict[str, Any]:
    """One ZIP of the report PDFs of a list of assessments."""
    from assessment.documents import report_context
    from assessment.models import Assessment
    from assessment.queries import definition_for

    ids = list(ctx.params["assessment_ids"])
    allowed = set(_org_ids(ctx.session, ctx.actor))
    files: list[tuple[str, bytes]] = []
    for done, assessment_id in enumerate(ids, start=1):
        assessment = ctx.session.get(Assessment, assessment_id)
        if assessment is None or assessment.organisation_id not in allowed or assessment.result is None:
            raise JobFailed(f"评估 {assessment_id} 不存在、无权查看或没有报告")
        context = report_context(ctx.session, assessment, definition_for(assessment))
        files.append((f"{context['report_no']}.pdf", render_pdf("assessment_report.html", context)))
        ctx.progress(done / (len(ids) + 1))
    ctx.attach("reports.zip", _zip(files), "application/zip")
    record_event(session=ctx.session, action="assessment.report.batch", actor=ctx.actor,
                 target_type="job", target_id=ctx.job.id, changes={"assessment_ids": ids})
    return {"reports": len(files)}


def _plan_param(params: dict[str, Any], _actor: Any, _session: Session) -> dict[str, Any]:
    for key in params:
        if key != "plan_id":
            raise ParamError(f"params.{key}", f"不接受的参数 {key}")
    if params.get("plan_id") is None:
        return {}
    plan = valid_id(params["plan_id"])
    if plan is None:
        raise ParamError("params.plan_id", "plan_id 应为检查计划编号")
    return {"plan_id": plan}


@register("certificates.issue", title=_l("批量发放等级证书"), roles=("admin",), validate=_plan_param)
def certificates_issue(ctx: JobContext) -> dict[str, Any]:
    """Issue every approved grade without a certificate; one ZIP of the new certificates.

    Step 1 issues and records which certificates it issued in the same commit; a retry after a
    crash skips it and renders exactly those (issuing again would find nothing new)."""
    from rating import operations as ops
    from rating.documents import certificate_context
    from rating.models import Certificate

    if "certificate_ids" not in ctx.checkpoint:
        grades = ops.issuable_grades(session=ctx.session, organisation_ids=_org_ids(ctx.session, ctx.actor),
                                     plan_id=ctx.params.get("plan_id"))
        issued = ops.issue_batch(session=ctx.session, actor=ctx.actor, grades=grades)
        ctx.save_checkpoint(certificate_ids=[c.id for c in issued])
    ids = ctx.checkpoint["certificate_ids"]
    files: list[tuple[str, bytes]] = []
    for done, certificate_id in enumerate(ids, start=1):
        certificate = ctx.session.get(Certificate, certificate_id)
        assert certificate is not None
        files.append((f"{certificate.serial}.pdf",
                      render_pdf("certificate.html", certificate_context(ctx.session, certificate))))
        ctx.progress(done / (len(ids) + 1))
    if files:
        ctx.attach("certificates.zip", _zip(files), "application/zip")
    return {"issued": len(ids)}


@register("escalate", title=_l("逾期整改升级"), roles=("admin",), validate=no_params)
def escalate(ctx: JobContext) -> dict[str, Any]:
    from rating import operations as ops

    done = ops.escalate_overdue(session=ctx.session, actor=ctx.actor,
                                organisation_ids=_org_ids(ctx.session, ctx.actor))
    return {"escalated": len(done)}


@register("reminders", title=_l("发送提醒"), roles=("admin",), validate=no_params)
def reminders(ctx: JobContext) -> dict[str, Any]:
    from jobs.notify import run_reminders

    return run_reminders(ctx, _org_ids(ctx.session, ctx.actor))


@register("audit.verify", title=_l("校验审计日志"), roles=("admin",), validate=no_params)
def audit_verify(ctx: JobContext) -> dict[str, Any]:
    """Verify what was added since the last checkpoint and, when intact, sign the head into a new
    checkpoint, so a nightly run leaves at most a day of events without an anchor."""
    from audit.chain import create_checkpoint

    report, checkpoint = create_checkpoint(ctx.session)
    broken = report.event_id or report.checkpoint_id
    if not report.ok:
        from jobs.notify import notify_admins

        notify_admins(ctx.session, subject=f"audit-broken:{broken}", category="audit",
                      text=f"审计日志哈希链校验未通过（{report.status}，第 {broken} 条），请立即核查。",
                      link="/admin/audit/")
    return {"ok": report.ok, "status": report.status, "broken_at": broken, "checked": report.checked,
            "checkpoint_id": checkpoint.id if checkpoint else None}
