"""Engine corrections found against outside references: required sections, labels in messages,
consistency warnings, a cap's level as a setting."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import instruments
from instruments.cli import rate_command
from scoring import AnswerError, score

GBT_FULL = {f"B.1.{i}": 4 for i in range(1, 9)} | {"B.2.1": 4, "B.2.2": 4, "B.2.3": 4, "B.2.4": 3} | {
    f"B.3.{i}": 4 for i in range(1, 7)} | {"B.3.7": 1, "B.3.8": 1, "B.3.9": 2, "B.4.1": 2,
                                           "B.4.2": 2, "B.4.3": 4, "B.4.4": 3, "B.4.5": 4}
SECTIONS = {"environment": 110, "facilities": 120, "operations": 140, "services": 560}


@pytest.mark.parametrize("answers", [{"services": 600}, {}])
def test_rate_refuses_missing_required_sections(answers: dict[str, int]) -> None:
    result = CliRunner().invoke(rate_command, ["gbt37276-2018", "-"], json.dumps({"answers": answers}))
    assert result.exit_code == 2, result.output
    errors = json.loads(result.output)["errors"]
    missing = {e["item"] for e in errors}
    assert missing == {"environment", "facilities", "operations", "services"} - set(answers)
    assert all(e["code"] == "required_section" for e in errors)
    assert any(e["message"].startswith("environment 环境：必填分项未录入") for e in errors)


def test_errors_name_items_by_label() -> None:
    answers = dict(GBT_FULL)
    del answers["B.1.1"]
    with pytest.raises(AnswerError) as caught:
        score(instruments.get("gbt42195-2022"), answers)
    error = caught.value.errors[0]
    assert error["item"] == "B.1.1" and error["message"].startswith("B.1.1 进食：必填项未作答")
    assert error["message_en"].startswith("B.1.1 Eating: required item not answered")


def test_coma_and_consciousness_are_checked_against_each_other() -> None:
    gbt = instruments.get("gbt42195-2022")
    comatose = score(gbt, {**GBT_FULL, "B.3.9": 0}).to_dict()
    assert any("A.5.11" in w and "B.3.9" in w for w in comatose["warnings"])
    alert = score(gbt, {**GBT_FULL, "A.5.11": True}).to_dict()
    assert any("神志清醒" in w for w in alert["warnings"])
    consistent = score(gbt, {**GBT_FULL, "A.5.11": True, "B.3.9": 0}).to_dict()
    assert not any("B.3.9" in w for w in consistent["warnings"])


@pytest.mark.parametrize(("cap", "expected"), [(3, 3), (4, 4)])
def test_a_caps_level_is_a_setting(cap: int, expected: int) -> None:
    scheme = instruments.get("gbt37276-2018").with_policies(first_application_cap=True,
                                                            first_application_cap_level=cap)
    answers = {"environment": 120, "facilities": 130, "operations": 150, "services": 600}
    result = score(scheme, answers, {"first_application": True}).to_dict()
    assert result["grade"]["code"] == expected
    assert any("首次申请的等级上限" in step for step in result["explanation"])


def test_the_explanation_never_contradicts_the_level() -> None:
    gbt = instruments.get("gbt42195-2022")
    lowest = {item.id: min(o.value for o in item.options) for item in gbt.items.values()
              if item.type == "single_choice" and item.id.startswith("B.")}
    # at the top already, a diagnosis cannot raise it: no "能力完全丧失 → 能力完全丧失"
    top = score(gbt, {**lowest, "A.4.1": ["F00-F03"]}).to_dict()
    assert top["level"]["code"] == 4
    assert not any(" → " in s and s.split(" → ")[0] == s.split(" → ")[1] for s in top["explanation"])
    assert any("已是最高等级" in s for s in top["explanation"])
    # coma "sets" level 4: with the level already 4 the explanation says it stays
    coma = score(gbt, {**lowest, "A.5.11": True}).to_dict()
    assert not any("直接评定为" in s for s in coma["explanation"])
    assert any("等级不变" in s for s in coma["explanation"])
    for result in (top, coma):
        level = result["level"]["label"]
        assert all(not ("直接评定为" in s and level not in s) for s in result["explanation"])


def test_a_policy_that_decides_a_result_is_named_in_the_explanation() -> None:
    """MZ/T 039: a combination no row covers is settled by the `combination_gaps` policy; the
    explanation (printed on the report), not only the warnings, names it."""
    from tests.scoring.test_scoring_golden import mzt_answers

    result = score(instruments.get("mzt039-2013"), mzt_answers(adl=60)).to_dict()
    assert any("combination_gaps" in w for w in result["warnings"])
    assert any("combination_gaps" in step and "→" in step for step in result["explanation"])
    assert any("combination_gaps" in step for step in result["explanation_en"])
