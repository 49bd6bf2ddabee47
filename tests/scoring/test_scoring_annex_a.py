"""GB/T 42195 version 2: Annex A information items, policy-driven skip logic for a coma."""

from __future__ import annotations

from typing import Any

import pytest

import instruments
from scoring import AnswerError, load_definition_text, score, validate_answers

GBT = instruments.get("gbt42195-2022")
OLD = instruments.get("gbt42195-2022", "1")
B_ITEMS = [item.id for section in GBT.sections[1:] for item in section.items]
INFO = {"A.1.1": "PG-2025-001", "A.1.2": "2025-03-01", "A.1.3": "first", "A.2.4": 162.5,
        "A.2.5": 51, "A.2.6": "minority", "A.2.6.name": "回族", "A.2.9": "primary",
        "A.2.10": ["spouse", "children"], "A.2.11": "married", "A.2.12": ["resident", "ltc"],
        "A.2.13": ["pension"], "A.3.1": "李明", "A.3.2": "child", "A.3.3": "李明",
        "A.4.2.1.name": "阿司匹林", "A.4.2.1.method": "口服", "A.4.2.1.dose": "100mg",
        "A.4.2.1.frequency": "每日1次", "A.5.1": "stage2", "A.5.3": ["surgical"], "A.5.9": True,
        "A.5.12": "便秘"}


def answers(pick: int) -> dict[str, Any]:
    return {item.id: item.options[pick].value for section in GBT.sections[1:] for item in section.items}


def test_version_two_is_newest_and_version_one_stays_resolvable() -> None:
    assert GBT.version == "2" and OLD.version == "1"
    assert set(OLD.items) < set(GBT.items)
    assert "A.3.4" not in GBT.items  # the contact's phone comes from the encrypted elder record
    assert "A.3.4" in (GBT.description.zh if GBT.description else "")


def test_every_information_item_is_unscored_and_documented() -> None:
    new = [GBT.items[i] for i in GBT.items if i not in OLD.items]
    assert len(new) >= 40
    for item in new:
        assert not item.is_scored and not item.required, item.id
        assert item.note, item.id
    uncertain = [i.id for i in new if i.note and "UNCERTAIN" in i.note]
    assert {"A.2.10", "A.2.12", "A.2.13", "A.5.1", "A.5.8"} <= set(uncertain)


@pytest.mark.parametrize("pick", [0, -1])
def test_information_items_change_nothing_in_the_result(pick: int) -> None:
    base = answers(pick)
    for facts in ({}, {"A.4.1": ["F00-F03"]}, {"A.2.14.1": 2}, {"A.5.11": True}):
        old = score(OLD, {**base, **facts}).to_dict()
        new = score(GBT, {**base, **facts, **INFO}).to_dict()
        for key in ("total", "domains", "preliminary_level", "level", "adjustments"):
            assert new[key] == old[key], (key, facts)
        assert sorted(new["warnings"]) == sorted(old["warnings"])  # defaults follow item order
    assert validate_answers(GBT, {**base, **INFO}) == []


def test_information_answers_are_checked() -> None:
    errors = validate_answers(GBT, {**answers(0), "A.1.2": "2025-13-01", "A.2.9": "phd",
                                    "A.2.4": 400})
    assert {e["item"] for e in errors} == {"A.1.2", "A.2.9", "A.2.4"}


def test_a_coma_lets_the_b_items_be_skipped() -> None:
    result = score(GBT, {"A.5.11": True, **INFO}).to_dict()
    assert result["level"]["code"] == 4
    # answered B items still count while in a coma; unanswered ones are not "required"
    partly = score(GBT, {"A.5.11": True, "B.1.1": 4, "B.3.9": 0}).to_dict()
    assert partly["domains"]["B1"]["score"] == 4 and partly["level"]["code"] == 4
    with pytest.raises(AnswerError) as caught:
        score(GBT, {"A.5.11": False})
    assert {e["item"] for e in caught.value.errors} == set(B_ITEMS)


def test_the_skip_is_a_policy() -> None:
    strict = GBT.with_policies(coma_skips_b_items=False)
    with pytest.raises(AnswerError) as caught:
        score(strict, {"A.5.11": True})
    assert {e["item"] for e in caught.value.errors} == set(B_ITEMS)
    logic = GBT.skip_logic()["B.1.1"]["relevant"]["source"]
    assert "policy." not in logic and "true" in logic  # the browser sees a constant


def test_policy_references_in_expressions_are_checked() -> None:
    text = """
id: p
version: 1
kind: assessment
title: p
policies:
  ask: {value: false, choices: [true, false], title: t, description: d}
sections:
  - id: S
    title: s
    items:
      - {id: a, type: boolean, title: a}
      - {id: b, type: integer, title: b, required: true, relevant: "policy.ask or a == true"}
"""
    definition = load_definition_text(text)
    assert score(definition, {"a": False}).to_dict()["total"] == 0
    with pytest.raises(AnswerError):
        score(definition, {"a": True})
    with pytest.raises(AnswerError):
        score(definition.with_policies(ask=True), {"a": False})
    from scoring import DefinitionError

    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text.replace("policy.ask", "policy.nope"))
    assert caught.value.errors[0]["item"] == "b" and "nope" in caught.value.errors[0]["message_en"]


def test_mzt039_coma_lets_the_other_items_be_skipped() -> None:
    mzt = instruments.get("mzt039-2013")
    assert mzt.version == "2" and instruments.get("mzt039-2013", "1").version == "1"
    result = score(mzt, {"B.3.1": 3}).to_dict()
    assert result["level"]["code"] == 3
    with pytest.raises(AnswerError) as caught:
        score(mzt.with_policies(coma_skips_other_items=False), {"B.3.1": 3})
    assert "B.1.1" in {e["item"] for e in caught.value.errors}
    with pytest.raises(AnswerError):
        score(mzt, {"B.3.1": 2})
