"""Every shipped pack loads, validates and scores a full random answer set."""

from __future__ import annotations

import json
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
        elif item.type == "date":
            answers[item.id] = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
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
        if definition.levels:  # the local item tables give no grade lines: they score and list findings
            assert result["level" if definition.kind == "assessment" else "grade"] is not None
        assert result["explanation"] and len(result["explanation"]) == len(
            result["explanation_en"])


def test_builtin_set_and_no_ltc_guess() -> None:
    assert set(instruments.builtin()) == {
        "gbt42195-2022", "mzt039-2013", "barthel", "gbt37276-2018", "community-star",
        "medal-example", "gb38600-safety", "nmg-institution-star", "nmg-area-centre-star",
        "nmg-community-station-star", "shexian-quality-checklist"}
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


def test_broken_expression_in_a_pack_names_file_item_field_and_position(tmp_path: Path) -> None:
    text = (PACK_DIR / "gbt42195-2022.yaml").read_text(encoding="utf-8")
    anchor = "      - id: B.1.2\n        type: single_choice\n"
    skip = "        relevant: not (A.5.11 == true and policy.coma_skips_b_items) or answered(.)\n"
    assert anchor + skip in text
    bad = tmp_path / "gbt-broken.yaml"
    bad.write_text(text.replace(anchor + skip, anchor + "        relevant: B.1.1 >= = 2\n"),
                   encoding="utf-8")
    errors = instruments.validate_file(bad)
    assert len(errors) == 1
    error = errors[0]
    assert error["source"] == str(bad) and error["item"] == "B.1.2"
    assert error["field"] == "sections[1].items[1].relevant" and error["position"] == 10
    assert error["message"] and error["message_en"]

    from click.testing import CliRunner

    from instruments.cli import instruments_group

    result = CliRunner().invoke(instruments_group, ["validate", str(bad)])
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"] == errors


def test_a_broken_builtin_pack_refuses_to_load(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """builtin() (called when the app starts) raises, naming the pack file, instead of
    silently skipping the broken pack."""
    for name in instruments.PACK_FILES:
        (tmp_path / name).write_text((PACK_DIR / name).read_text(encoding="utf-8"),
                                     encoding="utf-8")
    broken = (tmp_path / "barthel.yaml").read_text(encoding="utf-8").replace(
        "type: single_choice", "type: single_choise", 1)
    (tmp_path / "barthel.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(instruments.resources, "files", lambda _name: tmp_path)
    instruments.builtin.cache_clear()
    try:
        with pytest.raises(DefinitionError) as caught:
            instruments.builtin()
        assert caught.value.errors[0]["source"] == "instruments/barthel.yaml"
        assert caught.value.errors[0]["item"] == "feeding"
    finally:
        monkeypatch.undo()
        instruments.builtin.cache_clear()
    assert "barthel" in instruments.builtin()
