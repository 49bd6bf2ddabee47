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


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of one SQLite file onto another (SQLite's online backup), for both directions."""
    src, dest = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database to `target` while the app keeps running."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        _sqlite_copy(_sqlite_path(url), target)
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
        _sqlite_copy(source, dest_path)
    elif url.startswith("postgresql"):
        run = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                              "--single-transaction", f"--dbname={_libpq_url(url)}", str(source)],
                             capture_output=True, text=True, env=_pg_env())
        if run.returncode != 0:
            raise BackupError(f"pg_restore 失败：{run.stderr.strip()[:500]}")
    else:
        raise BackupError(f"不支持的数据库：{make_url(url).drivername}")


def backup_fingerprints(source: Path) -> dict[str, str]:
    """The key fingerprints recorded in a backup file (core.keycheck), read without restoring
    it: empty for a backup made before they were recorded."""
    if not source.exists():
        raise BackupError(f"备份文件不存在：{source}")
    with source.open("rb") as handle:
        is_sqlite = handle.read(16) == b"SQLite format 3\x00"
    if is_sqlite:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='key_check'").fetchone():
                return {}
            return dict(conn.execute("SELECT name, fingerprint FROM key_check").fetchall())
        finally:
            conn.close()
    run = subprocess.run([_tool("pg_restore"), "--data-only", "--table=key_check", "--file=-", str(source)],
                         capture_output=True, text=True, env=_pg_env())
    if run.returncode != 0:
        raise BackupError(f"无法读取备份（pg_restore）：{run.stderr.strip()[:500]}")
    found: dict[str, str] = {}
    columns: list[str] = []
    for line in run.stdout.splitlines():
        if line.startswith("COPY ") and "key_check" in line:
            columns = [c.strip() for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
        elif columns and line == "\\.":
            break
        elif columns:
            row = dict(zip(columns, line.split("\t"), strict=False))
            found[row["name"]] = row["fingerprint"]
    return found


def _pg_env() -> dict[str, str]:
    return {**os.environ, "PGCONNECT_TIMEOUT": "10"}


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (Alembic's own table left out)."""
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.connect() as conn:
        return {n: int(conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one()) for n in sorted(names)}


KEEP_KEYS_NOTE = (
    "备份只含数据库，不含密钥：数据加密密钥（YIYANG_DATA_KEY）、审计链密钥（YIYANG_AUDIT_KEY）、"
    "签名密钥（YIYANG_SIGNING_KEY）和会话密钥（YIYANG_SECRET_KEY），也不含实例目录中的照片。"
    "没有同一把数据密钥，恢复后身份证号等无法解密。请把这些密钥（或实例目录 {instance} 中的 data_key、audit_key、"
    "signing_key.pem、secret_key 文件）和照片目录另行安全保存，不要与备份放在一起。\n"
    "The backup holds the database only: not the data key (YIYANG_DATA_KEY), the audit key (YIYANG_AUDIT_KEY),"
    " the signing key (YIYANG_SIGNING_KEY), the session key (YIYANG_SECRET_KEY), nor the photos in the instance"
    " folder. Without the same data key, ID numbers cannot be decrypted after a restore. Keep those keys (or the"
    " files data_key, audit_key, signing_key.pem and secret_key in {instance}) and the photos safe, apart from"
    " the backups."
)


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
