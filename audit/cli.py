"""`yiyang audit verify`: walk the hash chain and report the first broken link."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from audit.operations import verify_chain
from core.db import get_engine


@click.group("audit")
def audit_group() -> None:
    """审计日志 / audit log."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """校验审计日志哈希链 / verify the audit hash chain (exit 1 when broken)."""
    with Session(get_engine()) as session:
        ok, broken, checked = verify_chain(session)
    if ok:
        click.echo(f"审计链完整：已校验 {checked} 条 / audit chain intact: {checked} events checked")
        return
    click.echo(f"审计链在第 {broken} 条断开 / audit chain broken at event id {broken}", err=True)
    raise SystemExit(1)
