"""GB 11643 citizen ID numbers: shape, MOD 11-2 check digit, embedded birth date."""

from datetime import date

import pytest

from assessment.idnumber import check_digit, id_number_problems, normalise_id_number

VALID = "11010519491231002X"


def test_check_digit_of_the_standard_example():
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize("number", [VALID, "11010519491231002x", " 110105 19491231002X "])
def test_valid_numbers_pass(number):
    assert id_number_problems(number, birth_date=date(1949, 12, 31)) == []
    assert normalise_id_number(number) == VALID


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "校验位"),
        ("1101051949123100", "18 位"),
        ("11010519491331002X", "不是有效日期"),
    ],
)
def test_invalid_numbers_say_why(number, fragment):
    assert any(fragment in p for p in id_number_problems(number))


def test_birth_date_must_match():
    problems = id_number_problems(VALID, birth_date=date(1950, 1, 1))
    assert any("不一致" in p for p in problems)
