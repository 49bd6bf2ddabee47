"""Spreadsheet (XLSForm-style) and YAML round trips, and every problem placed on its cell."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

import instruments
from instruments.files import export_bytes, read_definition_bytes
from instruments.xlsx import rows_to_xlsx, workbook_rows, write_xlsx
from instruments.xlsx_read import read_xlsx
from instruments.yamlio import dump_yaml, parse_yaml
from scoring import DefinitionError, score


@pytest.mark.parametrize("key", sorted(instruments.builtin_packs()))
def test_every_shipped_pack_round_trips_through_yaml_and_xlsx(key: tuple[str, str]) -> None:
    pack = instruments.builtin_packs()[key]
    original = pack.definition.model_dump(mode="json")
    from_xlsx, yaml_text = read_xlsx(write_xlsx(pack.definition))
    assert from_xlsx.model_dump(mode="json") == original
    assert parse_yaml(yaml_text).model_dump(mode="json") == original  # what the registry stores
    assert parse_yaml(dump_yaml(pack.definition)).model_dump(mode="json") == original
    exported = export_bytes(pack.definition, pack.text, "yaml")
    assert read_definition_bytes(exported, "x.yaml")[0].model_dump(mode="json") == original


def _barthel_rows() -> dict[str, list[dict[str, Any]]]:
    return workbook_rows(dict(instruments.get("barthel")._raw))


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(r for r in rows if all(r.get(k) == v for k, v in match.items()))


def test_a_dozen_planted_errors_are_all_reported_with_their_cells() -> None:
    sheets = _barthel_rows()
    survey, choices = sheets["survey"], sheets["choices"]
    _row(survey, name="feeding")["type"] = "select_won feeding"                 # 1 unsupported type
    _row(survey, name="bathing")["name"] = "grooming"                           # 2 duplicate id
    _row(survey, name="dressing")["required"] = "maybe"                         # 3 not yes/no
    _row(survey, name="bowels")["relevant"] = "dressing >"                      # 4 expression syntax
    _row(survey, name="bladder")["constraint"] = "nosuch > 1"                   # 5 unknown item
    _row(choices, list_name="toilet", name=10)["score"] = "abc"                 # 6 not a number
    _row(survey, name="transfers")["type"] = "select_one nolist"                 # 7 missing choice list
    _row(choices, list_name="mobility", name=10)["name"] = 5                    # 8 duplicate choice
    bands = sheets["bands"]
    bands[1]["max"] = 90                                                        # 9 gap 90..100
    bands[2]["max"] = 70                                                        # 10 overlap 65..70
    bands[3]["code"] = 9                                                        # 11 level not in scale
    sheets["levels"][0]["label::zh"] = None                                     # 12 English only
    sheets["levels"][0]["label::en"] = "Independent"
    with pytest.raises(DefinitionError) as caught:
        read_xlsx(rows_to_xlsx(sheets), source="planted.xlsx")
    errors = caught.value.errors
    cells = {(e.get("sheet"), e.get("row"), e.get("column")) for e in errors}
    codes = [e["code"] for e in errors]

    def row_of(sheet: str, name: str, key: str = "name") -> int:
        rows = sheets[sheet]
        return 2 + next(i for i, r in enumerate(rows) if r.get(key) == name)

    assert ("survey", row_of("survey", "select_won feeding", "type"), "A") in cells
    assert any(e["code"] == "duplicate_id" and e["sheet"] == "survey" for e in errors)
    assert any(e["sheet"] == "survey" and e["row"] == row_of("survey", "dressing") and "yes" in e["message"]
               for e in errors)
    assert "expression" in codes and "unknown_reference" in codes
    expression = next(e for e in errors if e["code"] == "expression")
    assert expression["sheet"] == "survey" and expression["row"] == row_of("survey", "bowels")
    reference = next(e for e in errors if e["code"] == "unknown_reference")
    assert reference["row"] == row_of("survey", "bladder") and "nosuch" in reference["message"]
    assert any(e["sheet"] == "choices" and "abc" in e["message"] for e in errors)
    assert any(e["sheet"] == "survey" and "nolist" in e["message"] for e in errors)
    assert any(e["sheet"] == "choices" and "重复" in e["message"] for e in errors)
    assert "band_gap" in codes and "band_overlap" in codes and "unknown_level" in codes
    assert all(e["sheet"] == "bands" and e["column"] for e in errors if e["code"] in ("band_gap", "band_overlap"))
    assert any(e["sheet"] == "levels" and "::zh" in e["message"] for e in errors)
    assert len(errors) >= 12
    assert all(e.get("sheet") and e.get("row") and e.get("column") for e in errors), errors


def test_plain_xlsform_imports_as_an_unscored_questionnaire() -> None:
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "hint", "required", "relevant", "constraint",
                   "constraint_message", "appearance"])
    survey.append(["start", "start", None, None, None, None, None, None, None])
    survey.append(["text", "name", "姓名", "填写全名", "yes", None, None, None, None])
    survey.append(["integer", "age", "年龄", None, "yes", None, ". >= 60", "应满 60 岁", "numbers"])
    survey.append(["select_one yn", "lives_alone", "是否独居", None, None, "${age} >= 60", None, None, None])
    survey.append(["note", "thanks", "谢谢", None, None, None, None, None, None])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yn", "yes", "是"])
    choices.append(["yn", "no", "否"])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(["居家情况小调查", "home-survey", 2026, "zh"])
    out = io.BytesIO()
    wb.save(out)
    definition, text = read_definition_bytes(out.getvalue(), "home.xlsx")
    assert (definition.id, definition.version, definition.title.zh) == ("home-survey", "2026", "居家情况小调查")
    assert list(definition.items) == ["name", "age", "lives_alone"]
    assert definition.item("lives_alone").relevant == "age >= 60"
    assert not any(item.is_scored for item in definition.items.values())
    result = score(definition, {"name": "王", "age": 70, "lives_alone": "yes"}).to_dict()
    assert result["level"] is None
    assert "home-survey" in text


def test_export_xlsx_for_a_shipped_pack_scores_the_same() -> None:
    gbt = instruments.get("gbt42195-2022")
    back, _ = read_definition_bytes(export_bytes(gbt, "", "xlsx"), "gbt.xlsx")
    answers = {item.id: item.options[-1].value for item in gbt.items.values()
               if item.type == "single_choice" and item.options}
    assert score(back, answers).to_dict() == score(gbt, answers).to_dict()
