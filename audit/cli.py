"""`yiyang audit verify | checkpoint | export-checkpoints`: check the keyed hash chain against its
signed checkpoints, anchor the head, and copy the anchors somewhere the database cannot reach."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from audit.chain import ChainReport, create_checkpoint, export_record, read_exported, verify
from audit.models import AuditCheckpoint
from core.db import get_engine
from core.signing import SigningKeyError


@click.group("audit")
def audit_group() -> None:
    """审计日志 / audit log."""


def describe(report: ChainReport) -> str:
    """One line saying what verification found."""
    if report.status == "rewritten":
        where = f"（检查点 {report.checkpoint_id} 记录的哈希不符）" if report.checkpoint_id else ""
        return (f"审计链在第 {report.event_id} 条被改写{where} / audit chain rewritten at event id {report.event_id}"
                + (f" (checkpoint {report.checkpoint_id} does not match)" if report.checkpoint_id else ""))
    if report.status == "truncated":
        return (f"审计链被截断：检查点 {report.checkpoint_id} 记录到第 {report.event_id} 条，日志现只到第 {report.last_id} 条"
                f" / audit chain truncated after checkpoint {report.checkpoint_id}: it covers event id"
                f" {report.event_id}, the log ends at {report.last_id}")
    if report.status == "bad_checkpoint":
        return (f"检查点 {report.checkpoint_id} 的签名无效 / checkpoint {report.checkpoint_id} is not signed by this"
                " instance's key")
    since = f"（自第 {report.started_after} 条的检查点起）" if report.started_after else ""
    since_en = f" after the checkpoint at event id {report.started_after}" if report.started_after else ""
    return f"审计链完整：已校验 {report.checked} 条{since} / audit chain intact: {report.checked} events checked{since_en}"


@audit_group.command("verify")
@click.option("--full", is_flag=True, help="从头校验每一条（默认从最近的检查点起） / walk every event, not only those after the latest checkpoint")
@click.option("--checkpoints", "exported", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="另行保存的检查点文件（export-checkpoints 的输出） / checkpoints exported earlier")
@with_appcontext
def verify_command(full: bool, exported: Path | None) -> None:
    """校验审计日志哈希链 / verify the audit hash chain (exit 1 when rewritten or truncated)."""
    anchors = read_exported(exported.read_text().splitlines()) if exported else None
    with Session(get_engine()) as session:
        report = verify(session, full=full, exported=anchors)
    for note in report.notes:
        click.echo(note)
    if report.ok:
        click.echo(describe(report))
        return
    click.echo(describe(report), err=True)
    raise SystemExit(1)


@audit_group.command("checkpoint")
@click.option("--full", is_flag=True, help="签名前从头校验 / verify every event before signing")
@with_appcontext
def checkpoint_command(full: bool) -> None:
    """校验并签名当前链头（建议定时运行） / verify and sign the chain's head (run it on a schedule)."""
    with Session(get_engine()) as session:
        try:
            report, checkpoint = create_checkpoint(session, full=full)
        except SigningKeyError as exc:
            raise click.ClickException(str(exc)) from None
        if not report.ok:
            click.echo(describe(report), err=True)
            raise SystemExit(1)
        if checkpoint is None:
            click.echo("审计日志为空，无需检查点 / the audit log is empty: no checkpoint")
            return
        session.commit()
        click.echo(f"检查点 {checkpoint.id}：第 {checkpoint.event_id} 条，哈希 {checkpoint.event_hash[:16]}…"
                   f" / checkpoint {checkpoint.id} signed at event id {checkpoint.event_id}")


@audit_group.command("export-checkpoints")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="写入文件（默认标准输出） / file (default stdout)")
@with_appcontext
def export_checkpoints_command(out: Path | None) -> None:
    """导出全部签名检查点（JSON 行），另地保存 / export every signed checkpoint as JSON lines, to keep elsewhere."""
    from sqlmodel import select

    with Session(get_engine()) as session:
        lines = [json.dumps(export_record(cp), sort_keys=True)
                 for cp in session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id))]  # type: ignore[arg-type]
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text)
    click.echo(f"已导出 {len(lines)} 个检查点到 {out} / {len(lines)} checkpoints exported")
