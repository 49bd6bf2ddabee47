"""A text longer than its column allows is one rule (core.validation.length_problems, the same
limits as the flush guard, read from the models): the elders' and facilities' imports name the
limit and the length, in the request's language."""

from __future__ import annotations

from tests.conftest import api_token
from tests.factories import make_id_number
from tests.imports.conftest import to_csv
from tests.imports.test_imports_elders import post

ELDERS = ["姓名", "性别", "身份证号", "地址"]
FACILITIES = ["机构名称", "机构类型", "地址"]


def test_overlong_text_names_the_models_limit(client, importer):
    headers = {**api_token(client, importer["admin"]), "Accept-Language": "en"}
    elders = post(client, headers, to_csv([["王一", "女", make_id_number("1945-03-02", 31), "路" * 301]],
                                          header=ELDERS)).get_json()
    assert [(e["column"], e["message"]) for e in elders["errors"]] == [
        ("地址", "At most 300 characters; this has 301.")]
    facilities = post(client, headers, to_csv([["幸福养老院", "station", "街" * 305]], header=FACILITIES),
                      kind="facilities").get_json()
    assert [(e["column"], e["message"]) for e in facilities["errors"]] == [
        ("地址", "At most 300 characters; this has 305.")]
    chinese = post(client, api_token(client, importer["admin"]),
                   to_csv([["幸福养老院", "station", "街" * 305]], header=FACILITIES), kind="facilities").get_json()
    assert chinese["errors"][0]["message"] == "最多 300 个字符，现在是 305 个。"


def test_an_importers_problems_read_in_english(client, importer):
    headers = {**api_token(client, importer["admin"]), "Accept-Language": "en"}
    rows = [["无类型", "敬老院", ""], ["外机构", "station", ""]]
    header = ["机构名称", "机构类型", "床位数"]
    body = post(client, headers, to_csv(rows + [["床位错", "station", "很多"]], header=header),
                kind="facilities").get_json()
    messages = [e["message"] for e in body["errors"]]
    assert len(messages) == 2 and not any("\u4e00" <= c <= "\u9fff" for m in messages for c in m), messages
