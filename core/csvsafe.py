"""CSV for spreadsheets, safely: a cell that starts with = + - @ (or a tab or carriage return)
is a formula to Excel and WPS, so it is prefixed with an apostrophe (OWASP's advice); rows are
written as they are read, never held all in memory. Every export uses this module."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel opens UTF-8 CSV correctly with a byte-order mark


def safe_cell(value: Any) -> str:
    """The text of one cell, defused when a spreadsheet would run it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> Iterator[str]:
    """The CSV text, one line at a time: BOM and header first, every cell through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        writer.writerow([safe_cell(c) for c in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield (BOM if bom else "") + line(header)
    for row in rows:
        yield line(row)
