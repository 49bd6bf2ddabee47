"""Backups and restores for SQLite (the online backup API) and PostgreSQL (pg_dump/pg_restore),
and the invariants checked after a restore: row counts, the audit chain, and whatever each
domain package adds (e.g. every issued certificate still verifies)."""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why, in Chinese."""


def _libpq_url(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份。")
    return Path(database)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端工具（Debian: postgresql-client）。")
    return found


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database to `target` while the app keeps running."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    elif url.startswith("postgresql"):
        run = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}",
                              _libpq_url(url)], capture_output=True, text=True, env=_pg_env())
        if run.returncode != 0:
            raise BackupError(f"pg_dump 失败：{run.stderr.strip()[:500]}")
    else:
        raise BackupError(f"不支持的数据库：{make_url(url).drivername}")
    os.chmod(target, 0o600)
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database's contents with the backup in `source`."""
    if not source.exists():
        raise BackupError(f"备份文件不存在：{source}")
    if url.startswith("sqlite"):
        dest_path = _sqlite_path(url)
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(source)
        dest = sqlite3.connect(dest_path)
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
    elif url.startswith("postgresql"):
        run = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                              "--single-transaction", f"--dbname={_libpq_url(url)}", str(source)],
                             capture_output=True, text=True, env=_pg_env())
        if run.returncode != 0:
            raise BackupError(f"pg_restore 失败：{run.stderr.strip()[:500]}")
    else:
        raise BackupError(f"不支持的数据库：{make_url(url).drivername}")


def _pg_env() -> dict[str, str]:
    return {**os.environ, "PGCONNECT_TIMEOUT": "10"}


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (Alembic's own table left out)."""
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.connect() as conn:
        return {n: int(conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one()) for n in sorted(names)}


def check_invariants(engine: Engine) -> list[str]:
    """Problems found in a (restored) database; empty when every invariant holds."""
    from audit.operations import verify_chain

    problems = []
    with Session(engine) as session:
        ok, broken, _ = verify_chain(session)
        if not ok:
            problems.append(f"审计链在第 {broken} 条断开")
        for package in ("assessment", "rating"):
            try:
                module: Any = importlib.import_module(f"{package}.invariants")
            except ModuleNotFoundError:
                continue
            problems.extend(module.check(session))
    return problems
