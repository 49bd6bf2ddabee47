"""Which keys a database was written with. The keys themselves never enter the database or a
backup; a keyed fingerprint of each does (table key_check), so a restore can refuse a backup
whose keys this instance does not hold instead of leaving every ID number undecryptable and
every audit event "rewritten".

Fingerprints: HMAC-SHA256 of a fixed label under the data key and the audit key (they reveal
nothing about either key), and the SHA-256 of the signing key's public half."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from core.timeutil import utcnow

KEY_NAMES = {
    "data": ("YIYANG_DATA_KEY", "数据加密密钥（身份证号、电话、诊断）"),
    "audit": ("YIYANG_AUDIT_KEY", "审计链密钥"),
    "signing": ("YIYANG_SIGNING_KEY", "签名密钥（证书、审计检查点）"),
}


class KeyCheck(SQLModel, table=True):
    __tablename__ = "key_check"

    name: str = Field(primary_key=True, max_length=16)
    fingerprint: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


def _keyed(secret: str, label: str) -> str:
    return hmac.new(secret.encode(), f"yiyang-key-check:{label}".encode(), hashlib.sha256).hexdigest()


def current_fingerprints(config: dict[str, Any]) -> dict[str, str]:
    """Fingerprints of the keys this instance holds (the app's config; the signing key only
    once one exists: this never creates it)."""
    from core.signing import SigningKeyError, key_fingerprint

    found = {}
    if config.get("DATA_KEY"):
        found["data"] = _keyed(str(config["DATA_KEY"]), "data")
    if config.get("AUDIT_KEY"):
        found["audit"] = _keyed(str(config["AUDIT_KEY"]), "audit")
    with contextlib.suppress(SigningKeyError):
        found["signing"] = key_fingerprint()
    return found


def stored_fingerprints(bind: Engine | Connection) -> dict[str, str]:
    """What the database records (empty for a database from before this table)."""
    if "key_check" not in inspect(bind).get_table_names():
        return {}
    table: Any = KeyCheck.__table__  # type: ignore[attr-defined]
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return {r.name: r.fingerprint for r in conn.execute(select(table.c.name, table.c.fingerprint))}
    return {r.name: r.fingerprint for r in bind.execute(select(table.c.name, table.c.fingerprint))}


def record_fingerprints(engine: Engine, config: dict[str, Any]) -> dict[str, str]:
    """Write this instance's fingerprints into the database (before a backup), keeping those of
    keys not present here. Refuses when the database was written with other keys."""
    current = current_fingerprints(config)
    stored = stored_fingerprints(engine)
    problems = mismatches(stored, current)
    if problems:
        raise KeyMismatch(problems)
    table: Any = KeyCheck.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for name, fingerprint in current.items():
            if name not in stored:
                conn.execute(table.insert().values(name=name, fingerprint=fingerprint, recorded_at=utcnow()))
    return current


class KeyMismatch(RuntimeError):
    """The data was written with keys this instance does not hold; the message names them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def mismatches(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """One sentence per key the data needs and this instance lacks or holds differently."""
    problems = []
    for name, fingerprint in recorded.items():
        variable, label = KEY_NAMES.get(name, (name, name))
        if name not in current:
            problems.append(f"缺少{label}：请设置 {variable}（或放回实例目录中的密钥文件）为备份时使用的密钥"
                            f" / missing {variable}: set it to the key in use when the backup was made")
        elif not hmac.compare_digest(current[name], fingerprint):
            problems.append(f"{label}与数据不符：请把 {variable} 设为备份时使用的密钥"
                            f" / {variable} does not match the data: set it to the key in use when the backup was made")
    return problems
