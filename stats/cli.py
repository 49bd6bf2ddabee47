"""`yiyang stats monthly --month 2026-11 --org ID -o FILE`: the monthly report (月报) as PDF,
made as that organisation's administrator sees it (its subtree and contracted areas)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint
from flask_babel import force_locale

from accounts.models import Organisation, User
from core.db import get_engine, session_scope


def register(bp: Blueprint) -> None:
    """Attach the commands to the blueprint's CLI group (`yiyang stats`)."""

    @bp.cli.command("monthly")
    @click.option("--month", default="", help="YYYY-MM（默认本月）/ the month (default: this month)")
    @click.option("--org", "org_id", type=int, required=True, help="机构编号 / organisation id")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="PDF 文件 / output file")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    def monthly_command(month: str, org_id: int, output: Path, lang: str) -> None:
        """生成月报 PDF / write the monthly report PDF."""
        from stats import monthly
        from stats.params import StatsError

        with session_scope(get_engine()) as session:
            org = session.get(Organisation, org_id)
            if org is None:
                raise click.ClickException(f"找不到机构：{org_id}")
            viewer = User(username="cli", password_hash="", organisation_id=org_id, roles="admin")
            try:
                with force_locale(lang):
                    report = monthly.render(session, viewer, month=month, lang=lang)
            except StatsError as error:
                raise click.ClickException("；".join(str(e["message"]) for e in error.errors)) from None
        output.write_bytes(report.pdf)
        click.echo(f"{output} ({report.month}, {len(report.pdf)} bytes)")
