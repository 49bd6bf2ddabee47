"""`yiyang certificates issue` (batch issuance with a progress bar; re-running issues nothing
twice) and `yiyang rating escalate` (mark overdue corrective actions as escalated; for cron)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import select

from accounts.models import Organisation
from core.db import get_session
from rating import operations as ops
from rating.models import InspectionPlan


@click.group("certificates")
def certificates_group() -> None:
    """等级证书 / grade certificates."""


@certificates_group.command("issue")
@click.option("--plan", "plan_id", type=int, default=None, help="只发放这一轮检查计划的证书 / only this plan (round)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="同时把新证书的 PDF 写入该目录 / also write the new certificates' PDFs here")
@with_appcontext
def issue_command(plan_id: int | None, out_dir: Path | None) -> None:
    """为已审批、尚未发证的等级批量发证 / issue certificates for every approved grade without one."""
    session = get_session()
    if plan_id is not None and session.get(InspectionPlan, plan_id) is None:
        raise click.ClickException(f"没有编号为 {plan_id} 的检查计划 / no such plan")
    org_ids = [o.id for o in session.exec(select(Organisation)) if o.id is not None]
    grades = ops.issuable_grades(session=session, organisation_ids=org_ids, plan_id=plan_id)
    if not grades:
        click.echo("没有待发的证书 / nothing to issue.")
        return
    with click.progressbar(length=len(grades), label="发放证书 / issuing") as bar:
        issued = ops.issue_batch(session=session, actor=None, grades=grades,
                                 progress=lambda _grade: bar.update(1))
    session.commit()
    click.echo(f"已发放 {len(issued)} 张证书 / issued {len(issued)} certificates.")
    if out_dir is not None and issued:
        from rating.documents import certificate_context
        from reports import render_batch

        contexts = [certificate_context(session, c) for c in issued]
        with click.progressbar(length=len(contexts), label="生成 PDF / rendering") as bar:
            done = {"n": 0}

            def progress(count: int, _total: int) -> None:
                bar.update(count - done["n"])
                done["n"] = count

            paths = render_batch("certificate.html", contexts, out_dir, workers=1, progress=progress)
        click.echo(f"PDF 已写入 / written: {len(paths)} → {out_dir}")


@click.group("rating")
def rating_group() -> None:
    """机构评定 / facility rating."""


@rating_group.command("escalate")
@with_appcontext
def escalate_command() -> None:
    """把逾期未整改的整改项标记为已升级 / escalate overdue corrective actions."""
    session = get_session()
    org_ids = [o.id for o in session.exec(select(Organisation)) if o.id is not None]
    done = ops.escalate_overdue(session=session, actor=None, organisation_ids=org_ids)
    session.commit()
    click.echo(f"已升级 {len(done)} 项 / escalated {len(done)}.")
