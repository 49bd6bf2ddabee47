"""One CSV helper for every export: formula cells defused, rows streamed."""

from __future__ import annotations

import csv
import io

import pytest

from core.csvsafe import csv_lines, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"])
def test_dangerous_cells_are_prefixed(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(("value", "text"), [(None, ""), (12, "12"), ("颐养", "颐养"), ("a=b", "a=b"), ("", "")])
def test_plain_cells_are_kept(value, text):
    assert safe_cell(value) == text


def test_lines_are_streamed_with_a_bom_and_parse_back():
    produced = []

    def rows():
        for n in range(3):
            produced.append(n)
            yield [n, f"=cmd|{n}", "逗号,引号\""]

    lines = csv_lines(["id", "值", "备注"], rows())
    first = next(lines)
    assert first.startswith("\ufeffid,") and produced == []  # nothing read before it is needed
    parsed = list(csv.reader(io.StringIO(first.lstrip("\ufeff") + "".join(lines))))
    assert parsed[1:] == [[str(n), f"'=cmd|{n}", "逗号,引号\""] for n in range(3)]
