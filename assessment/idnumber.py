"""Citizen identity numbers (GB 11643-1999): 18 characters with an ISO 7064 MOD 11-2 check digit."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalise_id_number(value: str) -> str:
    """Strip spaces and upper-case the check character (x → X)."""
    return re.sub(r"\s+", "", value or "").upper()


def check_digit(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def birth_date_of(id_number: str) -> date | None:
    """The birth date embedded at positions 7-14, or None when it is not a real date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def id_number_problems(value: str, *, birth_date: date | None = None) -> list[str]:
    """Every reason an ID number is refused, in Chinese; empty when it is valid."""
    number = normalise_id_number(value)
    if not _SHAPE.match(number):
        return ["身份证号应为 18 位：前 17 位是数字，最后一位是数字或 X。"]
    problems = []
    if check_digit(number[:17]) != number[17]:
        problems.append("身份证号校验位不正确（GB 11643 MOD 11-2），请核对是否输错。")
    embedded = birth_date_of(number)
    if embedded is None:
        problems.append("身份证号中的出生日期（第 7-14 位）不是有效日期。")
    elif birth_date is not None and embedded != birth_date:
        problems.append(f"身份证号中的出生日期 {embedded.isoformat()} 与填写的出生日期 "
                        f"{birth_date.isoformat()} 不一致。")
    return problems
