"""Citizen identity numbers (GB 11643-1999): 18 characters with an ISO 7064 MOD 11-2 check digit.

The problems are catalog messages (msgids and lazy strings), read in the request's language where
they are shown (core.errors.translate), like every other validation message."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from core.i18n import N_

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


def id_number_problems(value: str, *, birth_date: date | None = None) -> list[Any]:
    """Every reason an ID number is refused, as catalog messages; empty when it is valid."""
    number = normalise_id_number(value)
    if not _SHAPE.match(number):
        return [N_("身份证号应为 18 位：前 17 位是数字，最后一位是数字或 X。")]
    problems: list[Any] = []
    if check_digit(number[:17]) != number[17]:
        problems.append(N_("身份证号校验位不正确（GB 11643 MOD 11-2），请核对是否输错。"))
    embedded = birth_date_of(number)
    if embedded is None:
        problems.append(N_("身份证号中的出生日期（第 7-14 位）不是有效日期。"))
    elif birth_date is not None and embedded != birth_date:
        problems.append(_l("身份证号中的出生日期 %(embedded)s 与填写的出生日期 %(given)s 不一致。",
                           embedded=embedded.isoformat(), given=birth_date.isoformat()))
    return problems
