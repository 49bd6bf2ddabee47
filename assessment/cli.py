"""`yiyang assessment …`: reassessment reminders and reports from the command line.

The commands hang on the blueprint's CLI group, so registering the blueprint wires them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Blueprint
from sqlmodel import select

from accounts.models import Organisation, User
from core.db import get_engine, session_scope


def register(bp: Blueprint) -> None:
    """Attach the commands to the blueprint's CLI group (`yiyang assessment`)."""

    @bp.cli.command("due")
    @click.option("--org", "org_name", required=True, help="机构名称（含下级机构）/ organisation name")
    @click.option("--days", default=30, show_default=True, help="“即将到期”的天数 / due-soon window")
    def due_command(org_name: str, days: int) -> None:
        """列出逾期和即将到期的复评（身份证号脱敏）/ list overdue and due-soon reassessments.

        Streams: each line is written as it is read, a thousand rows at a time."""
        from accounts.queries import subtree_ids
        from assessment.lists import due_counts, stream_due

        with session_scope(get_engine()) as session:
            org = session.exec(select(Organisation).where(Organisation.name == org_name)).first()
            if org is None:
                raise click.ClickException(f"找不到机构：{org_name}")
            # Scoped like a user of that organisation, so the subtree rule is the same as on the pages.
            viewer = User(username="cli", password_hash="", organisation_id=org.id or 0)
            orgs = subtree_ids(session, org.id or 0)
            today = date.today()
            counts = due_counts(session, viewer, today=today, soon_days=days, cap=None)
            for kind, title in (("overdue", "已逾期 / overdue"), ("soon", f"{days} 天内到期 / due soon")):
                click.echo(f"{title}: {counts[kind][0]}")
                for e in stream_due(session, orgs, today=today, soon_days=days, kind=kind):
                    click.echo(f"  {e.due_on.isoformat()}  {e.elder.name}  {e.elder.id_number_masked}  "
                               f"#{e.state.latest_assessment_id}")

    @bp.cli.command("report")
    @click.argument("assessment_id", type=int)
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    def report_command(assessment_id: int, out: Path) -> None:
        """把评估报告写成 PDF / write an assessment report as PDF."""
        from assessment.documents import report_context
        from assessment.models import Assessment
        from assessment.queries import definition_for
        from reports import render_pdf

        with session_scope(get_engine()) as session:
            assessment = session.get(Assessment, assessment_id)
            if assessment is None or assessment.result is None:
                raise click.ClickException(f"没有已提交的评估 #{assessment_id}")
            pdf = render_pdf("assessment_report.html",
                             report_context(session, assessment, definition_for(assessment)))
        out.write_bytes(pdf)
        click.echo(f"已写入 / written: {out} ({len(pdf)} bytes)")
