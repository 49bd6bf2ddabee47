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


def _shown(app, lang, number, birth=None):
    from core.errors import translate

    with app.test_request_context(f"/?lang={lang}", headers={"Accept-Language": lang}):
        return [translate(p) for p in id_number_problems(number, birth_date=birth)]


@pytest.mark.parametrize(
    ("number", "birth", "chinese", "english"),
    [
        ("110105194912310021", None, "校验位", "check digit"),
        ("1101051949123100", None, "18 位", "18 characters"),
        ("11010519491331002X", None, "不是有效日期", "not a valid date"),
        (VALID, date(1950, 1, 1), "与填写的出生日期 1950-01-01 不一致", "1949-12-31"),
    ],
)
def test_problems_read_in_the_request_language(app, number, birth, chinese, english):
    zh, en = _shown(app, "zh", number, birth), _shown(app, "en", number, birth)
    assert any(chinese in p for p in zh)
    assert any(english in p for p in en)
    assert not any("\u4e00" <= c <= "\u9fff" for p in en for c in p)  # no Chinese left on English


def test_the_api_gives_id_number_problems_in_english(client, app, people):
    from tests.conftest import api_token

    headers = {**api_token(client, people["assessor1"]), "Accept-Language": "en"}
    body = {"name": "Li", "gender": "male", "birth_date": "1949-12-31", "id_number": "110105194912310021"}
    refused = client.post("/api/v1/elders", json=body, headers=headers)
    assert refused.status_code == 422
    messages = [e["message"] for e in refused.get_json()["errors"] if e["item"] == "id_number"]
    assert messages and all("check digit" in m for m in messages)
