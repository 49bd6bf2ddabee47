"""Every shipped pack loads, validates and scores a full random answer set."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import instruments
from scoring import NA, Definition, DefinitionError, score, validate_answers

PACK_DIR = Path(instruments.__file__).parent


def random_answers(definition: Definition, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in definition.items.values():
        if item.calculate:
            continue
        if item.not_applicable_allowed and rng.random() < 0.1:
            answers[item.id] = NA
        elif item.type in ("single_choice", "boolean") and item.options:
            answers[item.id] = rng.choice(item.options).value
        elif item.type == "multiple_choice":
            answers[item.id] = [o.value for o in item.options if rng.random() < 0.2]
        elif item.type == "boolean":
            answers[item.id] = rng.random() < 0.5
        elif item.type in ("count", "integer", "deduction"):
            answers[item.id] = rng.randint(int(item.min or 0), int(item.max or 5))
        elif item.type in ("decimal", "section_score"):
            answers[item.id] = rng.uniform(item.min or 0, item.max or 1)
        else:
            answers[item.id] = "x"
    for section in definition.sections:
        if not section.items and section.max:
            answers[section.id] = round(rng.uniform(0, section.max), 1)
    return answers


@pytest.mark.parametrize("path", sorted(PACK_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_pack_loads_validates_and_scores(path: Path) -> None:
    assert instruments.validate_file(path) == []
    definition = instruments.load_file(path)
    assert definition.id in instruments.builtin()
    rng = random.Random(path.stem)
    for _ in range(20):
        answers = random_answers(definition, rng)
        assert validate_answers(definition, answers) == []
        result = score(definition, answers).to_dict()
        assert result["level" if definition.kind == "assessment" else "grade"] is not None
        assert result["explanation"] and len(result["explanation"]) == len(
            result["explanation_en"])


def test_builtin_set_and_no_ltc_guess() -> None:
    assert set(instruments.builtin()) == {
        "gbt42195-2022", "mzt039-2013", "barthel", "gbt37276-2018", "community-star",
        "medal-example", "gb38600-safety"}
    assert "nhsa-ltc-2021" not in instruments.builtin()


def test_get_unknown_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError) as caught:
        instruments.get("nhsa-ltc-2021")
    assert "known:" in str(caught.value)
    with pytest.raises(KeyError):
        instruments.get("gbt42195-2022", version="99")


def test_validate_file_names_file_item_and_reason(tmp_path: Path) -> None:
    text = (PACK_DIR / "barthel.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("max: 100", "max: 90").replace("type: single_choice",
                                                               "type: single_choise", 1),
                   encoding="utf-8")
    errors = instruments.validate_file(bad)
    assert errors and all(e["source"] == str(bad) for e in errors)
    assert errors[0]["item"] == "feeding" and "type" in errors[0]["field"]
    with pytest.raises(DefinitionError):
        instruments.load_file(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    assert "line" in instruments.validate_file(broken)[0]["position"]


def test_policy_settings_are_documented() -> None:
    for definition in instruments.builtin().values():
        for name, policy in definition.policies.items():
            assert policy.title and policy.description, name
            assert policy.value in policy.choices, name
