"""Exports of the lists as CSV and XLSX, streamed: rows come from the lists' own filtered SQL
queries a keyset page at a time (core.paging), so a million rows never sit in memory.

A domain registers what it exports (its `exports.py`): the columns, with headers in the
catalog, and the finder of one keyset page, the same one its list page and list API use:

    register(ExportSpec(name="elders", title=_l("老年人"), roles=READ, page=find_page,
                        columns=lambda options: [Column(_l("姓名"), lambda row, o: row[0].name), ...]))

`core` knows no domain: the API routes, the background job and the command that use these
specs live in jobs/exports.py. CSV is UTF-8 with a byte-order mark (Excel then reads Chinese
correctly) and every cell goes through core.csvsafe; XLSX is written by openpyxl in write-only
mode (constant memory) to a temporary file that is then streamed. Strings are defused the same
way in both formats, so a cell that a spreadsheet would run as a formula never runs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.csvsafe import csv_lines, safe_cell
from core.paging import Page, PageParams

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BATCH = 1000  # rows per keyset page while exporting
CHUNK = 64 * 1024  # bytes per streamed piece
# Query arguments that shape the file rather than filter the rows.
CONTROL_ARGS = frozenset({"unmasked", "reason", "format", "cursor", "limit", "lang"})


@dataclass(frozen=True)
class ExportOptions:
    """How one export is written: masked or not (an administrator with a reason), which variant
    (`platform`: the hand-over record of docs/record-format.md)."""

    unmasked: bool = False
    variant: str = "list"
    decrypt: Callable[[str | None], str | None] | None = None
    org_name: Callable[[int | None], str] = lambda key: "" if key is None else str(key)
    user_name: Callable[[int | None], str] = lambda key: "" if key is None else str(key)
    lang: str = "zh"
    labels: dict[tuple[int, str], str] = field(default_factory=dict, compare=False)

    @property
    def english(self) -> bool:
        return self.lang.startswith("en")

    def label(self, table: Mapping[str, str], code: str | None) -> str:
        """A code's label from an N_() table, translated once per export (not once per row)."""
        if code is None:
            return ""
        key = (id(table), code)
        if key not in self.labels:
            from flask_babel import gettext

            self.labels[key] = str(gettext(table[code])) if code in table else code
        return self.labels[key]

    def reveal(self, encrypted: str | None, masked: str | None) -> str:
        """The full value for an unmasked export, the masked one otherwise."""
        if self.unmasked and self.decrypt is not None:
            return self.decrypt(encrypted) or ""
        return masked or ""


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy string: translated when the file is written
    value: Callable[[Any, ExportOptions], Any]


@dataclass(frozen=True)
class ExportSpec:
    name: str
    title: Any
    roles: tuple[str, ...]
    # finder(session, user, args, params) -> Page: the list's own filtered keyset page
    page: Callable[[Any, Any, Mapping[str, Any], PageParams], Page]
    columns: Callable[[ExportOptions], list[Column]]
    # count(session, user, args, cap) -> (count, more than cap): decides request or background job
    count: Callable[[Any, Any, Mapping[str, Any], int], tuple[int, bool]]
    variants: tuple[str, ...] = ("list",)
    # filters the list accepts (documented in the OpenAPI document and docs/exports.md)
    filters: tuple[str, ...] = ()
    # prepare(args, options) -> args: a variant's fixed filters (the platform record: approved only)
    prepare: Callable[[Mapping[str, Any], ExportOptions], Mapping[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


SPECS: dict[str, ExportSpec] = {}


def register(spec: ExportSpec) -> ExportSpec:
    SPECS[spec.name] = spec
    return spec


def filters_of(args: Mapping[str, Any]) -> dict[str, str]:
    """The list filters of a request (what goes into the audit record and a background job)."""
    out = {}
    for key in args:
        if key in CONTROL_ARGS:
            continue
        value = args.get(key)
        if value not in (None, ""):
            out[str(key)] = str(value)
    return out


def _forget(session: Any, item: Any) -> None:
    """Bounded memory: the session lets go of the rows already written."""
    for obj in item if isinstance(item, tuple) else (item,):
        try:
            if obj is not None and obj in session:
                session.expunge(obj)
        except Exception:  # a plain value (a name) is not an entity: nothing to forget
            continue


def iter_items(session: Any, spec: ExportSpec, user: Any, args: Mapping[str, Any], *,
               batch: int = BATCH) -> Iterator[Any]:
    """Every item of the filtered list, in the list's order, one keyset page at a time."""
    params = PageParams(limit=batch)
    while True:
        page = spec.page(session, user, args, params)
        for item in page.items:
            yield item
            _forget(session, item)
        if page.next_cursor is None:
            return
        params = PageParams(cursor=page.next_cursor, limit=batch)


def header_of(columns: Sequence[Column]) -> list[str]:
    return [str(c.header) for c in columns]


def iter_rows(session: Any, spec: ExportSpec, user: Any, args: Mapping[str, Any], options: ExportOptions,
              *, batch: int = BATCH, progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    """The rows of the export (one list of cell values per item)."""
    columns = spec.columns(options)
    for done, item in enumerate(iter_items(session, spec, user, args, batch=batch), start=1):
        yield [c.value(item, options) for c in columns]
        if progress is not None and done % batch == 0:
            progress(done)


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, every cell defused (core.csvsafe), in pieces of about 64 KB."""
    buffer: list[str] = []
    size = 0
    for line in csv_lines(header, ([_text(v) for v in row] for row in rows), bom=True):
        buffer.append(line)
        size += len(line)
        if size >= CHUNK // 3:  # a CJK character is three bytes in UTF-8
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


def xlsx_cell(value: Any) -> Any:
    """A cell for openpyxl: numbers and dates keep their type; text is defused like CSV, because
    openpyxl writes a string beginning with '=' as a formula."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | date | datetime):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.isoformat()  # Excel has no time zones: keep the offset as text
        return value
    return safe_cell(_text(value))


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "export") -> int:
    """Write the rows to `path` with openpyxl's write-only workbook (constant memory); the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_sheet_title(title))
    bold = Font(bold=True)
    head = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=safe_cell(text))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
        count += 1
    workbook.save(str(path))
    return count


def safe_sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in str(title) if ch not in "[]:*?/\\").strip() or "export"
    return cleaned[:31]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with open(path, "wb") as handle:
        for chunk in csv_chunks(header, rows):
            handle.write(chunk)


def write_file(path: Path, fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str) -> None:
    """The whole export into one file (a job, the command, an XLSX answer)."""
    if fmt == "xlsx":
        write_xlsx(path, header, rows, title=title)
    else:
        write_csv(path, header, rows)


def temp_path(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="yiyang-export-", suffix=suffix)
    os.close(fd)
    return Path(name)


def stream_file(path: Path, *, delete: bool = True) -> Iterator[bytes]:
    """A file in 64 KB pieces; removed when the last piece is sent (or the client went away)."""
    try:
        with open(path, "rb") as handle:
            while True:
                piece = handle.read(CHUNK)
                if not piece:
                    return
                yield piece
    finally:
        if delete:
            path.unlink(missing_ok=True)


def file_name(spec: ExportSpec, fmt: str, options: ExportOptions, today: date) -> str:
    """An ASCII file name (no personal data): elders-20261202.csv, assessments-platform-….csv."""
    variant = "" if options.variant == "list" else f"-{options.variant}"
    return f"{spec.name}{variant}-{today.strftime('%Y%m%d')}.{fmt}"
