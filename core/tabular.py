"""Reading and writing the spreadsheets people keep: XLSX and CSV (UTF-8 with or without BOM,
GBK/GB18030), columns found by their header in Chinese or English.

    table = open_table(path_or_bytes, "elders.xlsx", COLUMNS)
    table.problems                    # header problems (row 1): unknown, repeated or missing columns
    for row in table.rows():          # streamed; blank lines skipped
        row.number, row.values        # the row number the spreadsheet shows (header = 1), {key: text}

XLSX is read with openpyxl in read-only mode (one row at a time); a CSV's encoding is found by
one pass of an incremental UTF-8 decoder over the file (GB18030, a superset of GBK, otherwise),
then it is read line by line. Every value comes back as stripped text; dates typed as dates in
a spreadsheet come back as YYYY-MM-DD and whole numbers without ".0". A long number such as an
ID number typed as a number (Excel keeps 15 digits) is flagged, not silently rounded.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask_babel import lazy_gettext as _l

from core.i18n import N_

CSV_TYPES = (".csv", ".txt")
XLSX_TYPES = (".xlsx", ".xlsm")
IGNORED_HEADERS = {"序号", "编号", "no", "no.", "#", "index"}
_SPACES = re.compile(r"[\s_\-*＊:：]+")


class TableError(ValueError):
    """The file is not a spreadsheet this reader understands (the message says why, in Chinese)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Column:
    """One column of an import: its key, the Chinese header of the template, the English one,
    further accepted spellings, and whether it must be present."""

    key: str
    label: str  # Chinese header (a msgid: translated where it is shown)
    english: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.key, self.label, self.english, *self.aliases)}


@dataclass
class Problem:
    row: int
    column: str
    message: Any  # a Chinese msgid or a lazy string

    @property
    def text(self) -> str:
        """The message in the request's language (a msgid is looked up, a lazy string evaluated)."""
        from core.errors import translate

        return translate(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.text}


@dataclass
class Row:
    number: int
    values: dict[str, str]
    long_numbers: set[str] = field(default_factory=set)  # keys typed as numbers too long to keep


def normalise_header(text: Any) -> str:
    """'身份证号 *' → '身份证号', 'ID Number' → 'idnumber', 'birth_date' → 'birthdate'."""
    return _SPACES.sub("", str(text or "")).lower()


def cell_text(value: Any) -> tuple[str, bool]:
    """A cell as text, and whether it was a number too long to be exact (more than 15 digits)."""
    if type(value) is str:  # the common case first: every CSV cell, most XLSX cells
        return value.strip(), False
    if value is None:
        return "", False
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()), False
    if isinstance(value, date):
        return value.isoformat(), False
    if isinstance(value, bool):
        return ("1" if value else "0"), False
    if isinstance(value, float):
        if value.is_integer():
            text = str(int(value))
            return text, len(text) > 15
        return repr(value), False
    if isinstance(value, int):
        text = str(value)
        return text, len(text) > 15
    return str(value).strip(), False


def detect_encoding(handle: IO[bytes]) -> str:
    """utf-8-sig when the bytes are UTF-8 (with or without BOM), otherwise gb18030."""
    start = handle.read(3)
    if start == codecs.BOM_UTF8:
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(start)
        while chunk := handle.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


class Table:
    """A spreadsheet opened for reading: its header problems, then its rows, streamed."""

    def __init__(self, source: Path | bytes, filename: str, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.filename = filename
        self.problems: list[Problem] = []
        self._source = source
        suffix = Path(filename).suffix.lower()
        if suffix in XLSX_TYPES:
            self.kind = "xlsx"
        elif suffix in CSV_TYPES:
            self.kind = "csv"
        else:
            raise TableError(N_("只能导入 XLSX 或 CSV 文件（扩展名 .xlsx 或 .csv）。"))
        self._positions: dict[int, str] = {}
        self._open()

    # --- opening ----------------------------------------------------------------------------

    def _binary(self) -> IO[bytes]:
        if isinstance(self._source, bytes):
            return io.BytesIO(self._source)
        return open(self._source, "rb")  # noqa: SIM115  (closed by the reader that takes it)

    def _open(self) -> None:
        if self.kind == "xlsx":
            from openpyxl import load_workbook

            handle = self._binary()
            try:
                self._book = load_workbook(handle, read_only=True, data_only=True)
            except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
                handle.close()
                raise TableError(N_("文件不是有效的 XLSX 表格，请用 Excel 或 WPS 另存为 .xlsx 后再试。")) from exc
            self._handle = handle
            sheet = self._book.worksheets[0] if self._book.worksheets else None
            if sheet is None:
                raise TableError(N_("表格里没有工作表。"))
            self._iter: Iterator[Sequence[Any]] = sheet.iter_rows(values_only=True)
        else:
            handle = self._binary()
            encoding = detect_encoding(handle)
            handle.seek(0)
            text = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict")
            self._handle = text  # type: ignore[assignment]
            self._iter = csv.reader(text)
        try:
            header = next(self._iter, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            self.close()
            raise TableError(N_("无法读取 CSV 文件：编码应为 UTF-8 或 GBK，且为逗号分隔。")) from exc
        if header is None or not any(cell_text(c)[0] for c in header):
            self.close()
            raise TableError(N_("表格是空的：第 1 行应为列名（见模板）。"))
        self._read_header([cell_text(c)[0] for c in header])

    def _read_header(self, header: list[str]) -> None:
        lookup: dict[str, Column] = {}
        for column in self.columns:
            for name in column.names():
                lookup[name] = column
        seen: dict[str, str] = {}
        for position, text in enumerate(header):
            name = normalise_header(text)
            if not name or name in IGNORED_HEADERS:
                continue
            column = lookup.get(name)
            if column is None:
                self.problems.append(Problem(1, text, N_("无法识别的列名（请使用模板中的中文或英文列名）。")))
            elif column.key in seen:
                self.problems.append(Problem(1, text, N_("列重复出现。")))
            else:
                seen[column.key] = text
                self._positions[position] = column.key
        for column in self.columns:
            if column.required and column.key not in seen:
                self.problems.append(Problem(1, column.label, N_("缺少必填列。")))
        self.headers = {key: text for key, text in seen.items()}

    def header_of(self, key: str) -> str:
        """The column's header as written in the file (or the template's Chinese one)."""
        if key in self.headers:
            return self.headers[key]
        for column in self.columns:
            if column.key == key:
                return column.label
        return key

    # --- reading ----------------------------------------------------------------------------

    def rows(self) -> Iterator[Row]:
        """Every non-blank row after the header, numbered as the spreadsheet shows it."""
        number = 1
        try:
            for cells in self._iter:
                number += 1
                values: dict[str, str] = {}
                long_numbers: set[str] = set()
                for position, key in self._positions.items():
                    text, too_long = cell_text(cells[position] if position < len(cells) else None)
                    values[key] = text
                    if too_long:
                        long_numbers.add(key)
                if not any(values.values()) and not any(cell_text(c)[0] for c in cells):
                    continue
                yield Row(number, values, long_numbers)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise TableError(_l("文件在第 %(row)s 行附近无法读取：编码应为 UTF-8 或 GBK。", row=number)) from exc
        finally:
            self.close()

    def close(self) -> None:
        book = getattr(self, "_book", None)
        if book is not None:
            book.close()
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()


def open_table(source: Path | bytes, filename: str, columns: Sequence[Column]) -> Table:
    """Open a spreadsheet for reading; TableError when it is not one."""
    return Table(source, filename, columns)


def template(columns: Sequence[Column], kind: str, *, labels: Sequence[str] | None = None) -> bytes:
    """An empty template with its header row (the Chinese headers, or `labels`) and one example
    row: XLSX (text-formatted cells, so ID numbers stay exact) or CSV in UTF-8 with a BOM
    (Excel then opens it with the right encoding)."""
    header = list(labels or [c.label for c in columns])
    example = [c.example for c in columns]
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerow(example)
        return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    sheet.append(example)
    for index, text in enumerate(header, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, min(30, len(text) * 2 + 4))
        sheet.column_dimensions[letter].number_format = "@"
        for cell in sheet[letter]:
            cell.number_format = "@"
    out_bytes = io.BytesIO()
    book.save(out_bytes)
    return out_bytes.getvalue()


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_date(text: str) -> date | None:
    """'2024-03-05', '2024/3/5', '2024.3.5', '2024年3月5日' or '20240305'; None when it is not a date."""
    text = text.strip()
    if " " in text or "T" in text:  # a date cell with a time of midnight
        text = text.replace("T", " ").split(" ")[0]
    match = _DATE.match(text)
    if match is None and re.fullmatch(r"\d{8}", text):
        match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


_LOOKUPS: dict[tuple[tuple[str, Any], ...], dict[str, str]] = {}


def parse_choice(text: str, choices: dict[str, Any]) -> str | None:
    """A value of a fixed list given as its key or its Chinese label ('male', '男', 'MALE');
    `choices` maps key → label (each table's lookup is built once)."""
    table = tuple(choices.items())
    lookup = _LOOKUPS.get(table)
    if lookup is None:
        lookup = {}
        for key, label in choices.items():
            lookup[normalise_header(label)] = key
            lookup[normalise_header(key)] = key
        _LOOKUPS[table] = lookup
    return lookup.get(normalise_header(text))
