"""`yiyang import elders|facilities|users FILE [--commit] [--user NAME] [--json]`.

Without --commit it is the dry run: every problem as `row<TAB>column<TAB>message`, nothing
written. With --commit the valid rows are imported in one transaction. Exit status 2 when a row
has a problem and nothing was imported (a dry run with problems, or a commit that added nothing
because of them); 0 otherwise. The file is streamed from disk: memory stays bounded.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import select

from accounts.models import Organisation, User
from core.db import get_session
from imports.runner import FileRefused, run_import


class ImportRefused(click.ClickException):
    exit_code = 2


def _actor(session: object, username: str | None) -> User:
    if username:
        user = session.exec(select(User).where(User.username == username)).first()  # type: ignore[attr-defined]
        if user is None or not user.is_active:
            raise ImportRefused(f"没有启用的用户 {username} / no active user {username}")
        return user  # type: ignore[no-any-return]
    stmt = (select(User).join(Organisation, Organisation.id == User.organisation_id)  # type: ignore[arg-type]
            .where(User.is_active.is_(True), Organisation.parent_id.is_(None),  # type: ignore[attr-defined, union-attr]
                   User.roles.contains("admin")).order_by(User.id))  # type: ignore[attr-defined]
    for user in session.exec(stmt):  # type: ignore[attr-defined]
        if user.has_role("admin"):
            return user  # type: ignore[no-any-return]
    raise ImportRefused("没有顶层机构的管理员，请用 --user 指定导入人 / no top-level administrator: use --user")


@click.command("import")
@click.argument("kind", type=click.Choice(["elders", "facilities", "users"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="导入有效的行（默认只检查）/ import the valid rows (default: dry run)")
@click.option("--user", "username", default=None,
              help="以该用户的身份与管辖范围导入（默认：顶层机构的第一位管理员）/ import as this user")
@click.option("--json", "as_json", is_flag=True, help="输出与 API 相同的 JSON / print the API's JSON")
@with_appcontext
def import_command(kind: str, file: Path, commit: bool, username: str | None, as_json: bool) -> None:
    """从 XLSX 或 CSV 批量导入 / bulk import from XLSX or CSV (elders, facilities, users)."""
    session = get_session()
    actor = _actor(session, username)
    try:
        report = run_import(session=session, actor=actor, kind=kind, source=file, filename=file.name,
                            commit=commit)
    except FileRefused as exc:
        session.rollback()
        raise ImportRefused(f"{exc.message}") from None
    if commit:
        session.commit()
    else:
        session.rollback()
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for problem in report.errors:
            click.echo(f"{problem.row}\t{problem.column}\t{problem.message}")
        line = (f"共 {report.rows} 行，有效 {report.valid} 行，重复 {report.duplicates} 行，问题 {report.problem_count} 处"
                f" / {report.rows} rows, {report.valid} valid, {report.duplicates} duplicates, "
                f"{report.problem_count} problems")
        if commit:
            line += f"；已导入 {report.imported} 行 / imported {report.imported}"
        else:
            line += "；未写入（加 --commit 导入有效的行）/ dry run: nothing written (--commit imports the valid rows)"
        click.echo(line)
        for name, value in report.extra.items():
            if name != "passwords":
                click.echo(f"{name}: {value}")
        for username_, password in report.extra.get("passwords", []):
            click.echo(f"初始密码 / initial password\t{username_}\t{password}")
    if report.problem_count and not report.imported:
        raise SystemExit(2)
