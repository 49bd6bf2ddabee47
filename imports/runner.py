"""One import, the same for every kind and every caller (CLI, API, page, job).

    report = run_import(session=s, actor=u, kind="elders", source=path_or_bytes,
                        filename="elders.xlsx", commit=False)

Stages: read the header (core.tabular) → for each batch of rows, the kind's checks, then the
duplicates within the file (by the kind's key: an ID number's keyed hash, a facility's name in
its organisation, a username) → with `commit`, the batch's valid rows are inserted at once, in
the caller's transaction, so the import is one transaction however large the file. Memory
holds one batch and one 16-byte digest per distinct key (1.6 MB for 100,000 rows).

The audit log gets one event per committed import (`<kind>.import`): the file's SHA-256, the
counts and the range of ids created. Not one event per row: the audit chain is a point every
writer waits on, and 100,000 chained events would make the import (and every other write of
those minutes) slow without telling more than "this file, by this person, created these ids".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from audit import record_event
from core.errors import DomainError
from core.tabular import Problem, TableError, open_table
from imports.registry import IMPORTERS, Importer

BATCH = 1000
DEFAULT_MAX_ROWS = 200_000


class FileRefused(DomainError):
    """The file cannot be imported at all (not a spreadsheet, too many rows, unknown kind)."""

    def __init__(self, message: Any, status: int = 422, code: str = "invalid_file") -> None:
        DomainError.__init__(self, message, status=status, code=code,
                             errors=[{"item": "file", "message": message}])


@dataclass
class Report:
    kind: str
    checksum: str
    rows: int = 0
    valid: int = 0
    duplicates: int = 0
    imported: int = 0
    problem_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    created_ids: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    committed: bool = False

    @property
    def truncated(self) -> int:
        """Problems found but not kept in `errors` (beyond the report limit)."""
        return self.problem_count - len(self.errors)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"rows": self.rows, "valid": self.valid, "duplicates": self.duplicates,
                                "errors": [p.as_dict() for p in self.errors], "checksum": self.checksum}
        if self.committed:
            body["imported"] = self.imported
        if self.truncated:
            body["more_errors"] = self.truncated
        return body | self.extra


def file_checksum(source: Path | bytes) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with open(source, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def importer_for(kind: str) -> Importer:
    from imports import load_importers

    load_importers()
    if kind not in IMPORTERS:
        raise FileRefused(_l("不支持导入 %(kind)s（可导入：elders、facilities、users）。", kind=kind),
                           status=404, code="not_found")
    return IMPORTERS[kind]


def max_rows() -> int:
    if has_app_context():
        return int(current_app.config.get("IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)
    return DEFAULT_MAX_ROWS


def run_import(*, session: Any, actor: Any, kind: str, source: Path | bytes, filename: str, commit: bool,
               report_limit: int | None = None, checksum: str | None = None,
               progress: Callable[[int], None] | None = None) -> Report:
    """Check a file (and with `commit`, insert its valid rows in the session's transaction)."""
    importer = importer_for(kind)
    report = Report(kind=kind, checksum=checksum or file_checksum(source), committed=commit)
    try:
        table = open_table(source, filename, importer.columns)
    except TableError as exc:
        raise FileRefused(exc.message) from None
    if table.problems:  # a wrong header would make every row wrong: say only that
        table.close()
        report.errors = table.problems
        report.problem_count = len(table.problems)
        return report
    context = importer.start(session=session, actor=actor, commit=commit)
    seen: dict[bytes, int] = {}
    limit = max_rows()

    def keep(problem: Problem) -> None:
        report.problem_count += 1
        if report_limit is None or len(report.errors) < report_limit:
            report.errors.append(problem)

    def flush(batch: list[Any]) -> None:
        valid: list[Any] = []
        for item in importer.check(context, batch):
            problems = [Problem(item.row.number, table.header_of(c), m) for c, m in item.problems]
            is_duplicate = False
            if item.key is not None:
                digest = hashlib.blake2b(item.key.encode(), digest_size=16).digest()
                first = seen.get(digest)
                if first is not None:
                    is_duplicate = True
                    problems.append(Problem(item.row.number, table.header_of(item.key_column),
                                            _l("与第 %(row)s 行重复。", row=first)))
                else:
                    seen[digest] = item.row.number
                    if item.exists:
                        is_duplicate = True
                        problems.append(Problem(item.row.number, table.header_of(item.key_column),
                                                importer.duplicate_message))
            report.duplicates += is_duplicate
            for problem in problems:
                keep(problem)
            if not problems:
                report.valid += 1
                valid.append(item.record)
        if commit and valid:
            ids = importer.insert(context, valid)
            report.imported += len(ids)
            if ids:
                low, high = report.created_ids or (min(ids), max(ids))
                report.created_ids = (min(low, *ids), max(high, *ids))
        if progress is not None:
            progress(report.rows)

    try:
        batch = []
        for row in table.rows():
            report.rows += 1
            if report.rows > limit:
                raise FileRefused(_l("文件超过 %(limit)s 行，请分成几个文件导入。", limit=limit), status=413,
                                   code="too_large")
            batch.append(row)
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    except TableError as exc:
        raise FileRefused(exc.message) from None
    report.extra = importer.summary(context)
    if commit:
        record_event(session=session, action=importer.audit_action, actor=actor, target_type="import",
                     target_id=report.checksum[:16],
                     changes={"kind": kind, "sha256": report.checksum, "rows": report.rows,
                              "imported": report.imported, "duplicates": report.duplicates,
                              "problems": report.problem_count,
                              "first_id": report.created_ids[0] if report.created_ids else None,
                              "last_id": report.created_ids[1] if report.created_ids else None})
        session.flush()
    return report

