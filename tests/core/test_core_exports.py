"""core.exports: the CSV and XLSX writers (BOM, defused cells, types kept) and the keyset loop
that pulls an export page by page."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from core.exports import (
    Column,
    ExportOptions,
    ExportSpec,
    csv_chunks,
    file_name,
    iter_items,
    iter_rows,
    write_xlsx,
    xlsx_cell,
)
from core.paging import Page, PageParams, decode_cursor, encode_cursor

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "=HYPERLINK(\"http://evil.example\")"]


def test_csv_has_one_bom_defused_cells_and_survives_many_chunks():
    rows = [[n, f"老人{n}", HOSTILE[n % len(HOSTILE)], True, date(2026, 1, 2)] for n in range(5000)]
    chunks = list(csv_chunks(["编号", "姓名", "备注", "是否", "日期"], rows))
    assert len(chunks) > 1  # streamed in pieces, not one string
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode()) and data.count("\ufeff".encode()) == 1
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0] == ["编号", "姓名", "备注", "是否", "日期"] and len(parsed) == 5001
    assert all(not row[2].startswith(("=", "+", "-", "@", "\t")) for row in parsed[1:])
    assert parsed[1] == ["0", "老人0", "'=1+1", "是", "2026-01-02"]


def test_xlsx_keeps_numbers_and_dates_and_defuses_text(tmp_path: Path):
    path = tmp_path / "x.xlsx"
    count = write_xlsx(path, ["=header", "数"], [[text, n] for n, text in enumerate(HOSTILE)], title="评估/导出")
    assert count == len(HOSTILE)
    sheet = load_workbook(path).active
    assert sheet.title == "评估导出"
    assert sheet["A1"].value == "'=header"
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s" and row[0].value.startswith("'")
        assert isinstance(row[1].value, int)
    assert xlsx_cell(date(2026, 1, 2)) == date(2026, 1, 2) and xlsx_cell(None) is None


def _spec(items: list[int], seen: list[PageParams]) -> ExportSpec:
    def page(_session: Any, _user: Any, _args: Any, params: PageParams) -> Page:
        seen.append(params)
        start = decode_cursor(params.cursor)[0][0] if params.cursor else -1
        rest = [i for i in items if i > start]
        chunk = rest[:params.limit]
        more = len(rest) > params.limit
        return Page(items=chunk, next_cursor=encode_cursor([chunk[-1]]) if more else None, limit=params.limit)

    return ExportSpec(name="numbers", title="数字", roles=("admin",), page=page,
                      columns=lambda _o: [Column("n", lambda r, o: r), Column("2n", lambda r, o: 2 * r)],
                      count=lambda *_a: (len(items), False))


def test_rows_come_page_by_page_through_the_cursor():
    seen: list[PageParams] = []
    spec = _spec(list(range(7)), seen)
    assert list(iter_items(None, spec, None, {}, batch=3)) == list(range(7))
    assert [p.limit for p in seen] == [3, 3, 3] and seen[0].cursor is None and seen[1].cursor
    progress: list[int] = []
    rows = list(iter_rows(None, spec, None, {}, ExportOptions(), batch=3, progress=progress.append))
    assert rows[-1] == [6, 12] and progress == [3, 6]


def test_file_names_carry_no_personal_data():
    spec = _spec([], [])
    assert file_name(spec, "csv", ExportOptions(), date(2026, 12, 2)) == "numbers-20261202.csv"
    assert file_name(spec, "xlsx", ExportOptions(variant="platform"), date(2026, 12, 2)) == "numbers-platform-20261202.xlsx"


def test_reveal_masks_unless_unmasked():
    assert ExportOptions().reveal("secret", "1101********") == "1101********"
    unmasked = ExportOptions(unmasked=True, decrypt=lambda token: f"plain:{token}")
    assert unmasked.reveal("secret", "1101********") == "plain:secret"
