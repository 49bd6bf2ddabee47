"""A spreadsheet of elders with planted bad rows, and the people who import it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.factories import OrganisationFactory, UserFactory, make_id_number

HEADER = ["姓名", "性别", "身份证号", "出生日期", "电话", "所属机构", "社区"]


def bad_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def planted_rows() -> tuple[list[list[str]], set[tuple[int, str]]]:
    """Nine rows (spreadsheet rows 2-10): two good ones and seven each wrong in one way."""
    good = make_id_number("1945-03-02", 11)
    rows = [
        ["王一", "女", good, "1945-03-02", "13800000001", "", "幸福社区"],                    # 2 valid
        ["王二", "男", bad_check_digit(make_id_number("1946-01-01", 12)), "", "", "", ""],    # 3 check digit
        ["王三", "男", make_id_number("1947-05-06", 13), "1950-01-01", "", "", ""],           # 4 birth date
        ["王四", "女", make_id_number("1948-07-08", 14), "", "", "", "没有这个社区"],          # 5 community
        ["王一", "女", good, "", "", "", ""],                                                 # 6 same as 2
        ["王六", "男", make_id_number("1949-09-10", 16), "", "12ab", "", ""],                 # 7 phone
        ["王七", "female", make_id_number("1950-11-12", 17), "1950/11/12", "", "测试二区", ""],  # 8 valid
        ["王八", "女", make_id_number("1940-02-02", 18), "", "", "", ""],                     # 9 registered
        ["王九", "男", make_id_number("1941-03-03", 19), "", "", "无关机构", ""],              # 10 not ours
    ]
    expected = {(3, "身份证号"), (4, "身份证号"), (5, "社区"), (6, "身份证号"), (7, "电话"), (9, "身份证号"),
                (10, "所属机构")}
    return rows, expected


def to_csv(rows: list[list[str]], header: list[str] | None = None, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def to_xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture()
def importer(org_tree: dict[str, Any]) -> dict[str, Any]:
    community = OrganisationFactory(name="幸福社区", kind="community", parent=org_tree["district1"])
    admin = UserFactory(username="import_admin", roles="admin", organisation=org_tree["city"])
    assessor = UserFactory(username="import_assessor", roles="assessor", organisation=org_tree["city"])
    return {"admin": admin, "assessor": assessor, "community": community, **org_tree}


def registered_row() -> list[str]:
    """Row 9 of the planted file, registered before the import."""
    return planted_rows()[0][7]
