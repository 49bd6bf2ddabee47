"""`yiyang backup` and `yiyang restore`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from core import backup as bk
from core.db import get_engine


@click.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path | None) -> None:
    """备份数据库 / back up the database (SQLite file copy or pg_dump)."""
    url = current_app.config["DATABASE_URL"]
    if target is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = Path(current_app.instance_path) / "backups" / f"yiyang-{stamp}.backup"
    from core.keycheck import KeyMismatch, record_fingerprints

    try:
        record_fingerprints(get_engine(), current_app.config)
    except KeyMismatch as error:  # still back up: the data is worth more than the warning
        click.echo(f"警告 / warning: {error}", err=True)
    try:
        bk.backup(url, target)
    except bk.BackupError as error:
        raise click.ClickException(str(error)) from error
    counts = bk.row_counts(get_engine())
    click.echo(f"已备份到 / backed up to: {target}  ({sum(counts.values())} 行 / rows)")
    click.echo(bk.KEEP_KEYS_NOTE.format(instance=current_app.instance_path))


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再确认 / do not ask for confirmation")
@click.option("--unchecked-keys", is_flag=True,
              help="恢复早于密钥指纹的备份（无法事先核对密钥）/ restore a backup made before key fingerprints")
@with_appcontext
def restore_command(source: Path, yes: bool, unchecked_keys: bool) -> None:
    """从备份恢复数据库（覆盖现有数据）/ restore the database from a backup (replaces its data)."""
    if not yes:
        click.confirm("恢复会覆盖当前数据库的全部数据，确定继续吗？ Restore replaces all current data. Continue?",
                      abort=True)
    from core.keycheck import current_fingerprints, mismatches

    try:
        recorded = bk.backup_fingerprints(source)
    except bk.BackupError as error:
        raise click.ClickException(str(error)) from error
    if not recorded and not unchecked_keys:
        raise click.ClickException(
            "未恢复：这份备份早于密钥指纹，无法事先核对本实例的密钥是否与备份中的数据相符。确认密钥无误后，"
            "加 --unchecked-keys 再恢复；恢复后会校验审计链，密钥不符时报告失败。 Not restored: this backup predates"
            " key fingerprints, so this instance's keys cannot be checked against it first. When you are sure"
            " of the keys, run again with --unchecked-keys; the audit chain is verified after the restore.")
    problems = mismatches(recorded, current_fingerprints(current_app.config))
    if problems:
        raise click.ClickException(
            "未恢复：本实例的密钥与备份中的数据不符，恢复后将无法解密或校验。 Not restored: this instance's keys do not"
            " match the backup's data.\n  " + "\n  ".join(problems))
    engine = get_engine()
    engine.dispose()
    try:
        bk.restore(current_app.config["DATABASE_URL"], source)
    except bk.BackupError as error:
        raise click.ClickException(str(error)) from error
    engine.dispose()
    problems = bk.check_invariants(engine)
    counts = bk.row_counts(engine)
    click.echo(f"已恢复 / restored: {sum(counts.values())} 行 / rows in {len(counts)} 张表 / tables")
    if problems:
        for problem in problems:
            click.echo(f"  ✗ {problem}", err=True)
        raise SystemExit(1)
    click.echo("  ✓ 审计链与各项校验通过 / audit chain and invariants hold")
