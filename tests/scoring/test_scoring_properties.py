"""Property tests (hypothesis) over the shipped packs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import instruments
from scoring import score

GBT = instruments.get("gbt42195-2022")
SCORED = [item for section in GBT.sections[1:] for item in section.items]
CODES = [o.value for o in GBT.item("A.4.1").options]


@st.composite
def gbt_answers(draw: st.DrawFn) -> dict[str, Any]:
    answers: dict[str, Any] = {i.id: draw(st.sampled_from([o.value for o in i.options]))
                               for i in SCORED}
    answers["A.5.11"] = draw(st.booleans())
    answers["A.4.1"] = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=4))
    for k in range(1, 6):
        answers[f"A.2.14.{k}"] = draw(st.integers(0, 3))
    return answers


@settings(max_examples=150, deadline=None)
@given(gbt_answers())
def test_total_within_bounds_and_deterministic(answers: dict[str, Any]) -> None:
    first = score(GBT, answers).to_dict()
    assert 0 <= first["total"] <= first["max_total"] == 90
    for domain in first["domains"].values():
        assert 0 <= domain["score"] <= domain["max"]
    assert score(GBT, dict(answers)).to_dict() == first
    assert 0 <= first["level"]["code"] <= 4
    assert first["level"]["code"] >= first["preliminary_level"]["code"]


@settings(max_examples=150, deadline=None)
@given(gbt_answers(), st.sampled_from(SCORED))
def test_raising_one_answer_never_lowers_the_total(answers: dict[str, Any], item: Any) -> None:
    before = score(GBT, answers).to_dict()["total"]
    better = [o.value for o in item.options if o.value > answers[item.id]]
    if better:
        after = score(GBT, {**answers, item.id: min(better)}).to_dict()["total"]
        assert after > before


@settings(max_examples=150, deadline=None)
@given(gbt_answers())
def test_explanation_names_every_applied_adjustment(answers: dict[str, Any]) -> None:
    result = score(GBT, answers).to_dict()
    text = "\n".join(result["explanation"])
    for adjustment in result["adjustments"]:
        assert adjustment["label"] in text


@given(st.integers(0, 90))
def test_every_total_maps_to_exactly_one_level(total: int) -> None:
    rule = next(r for r in GBT.rules if r.type == "bands")
    matches = [b.code for b in rule.bands if b.min <= total <= b.max]
    assert len(matches) == 1


@given(st.decimals(0, 1000, places=1))
def test_every_gbt37276_total_gets_one_grade(total: Any) -> None:
    share = float(total) / 1000
    answers = {"environment": 120 * share, "facilities": 130 * share,
               "operations": 150 * share, "services": 600 * share}
    result = score(instruments.get("gbt37276-2018"), answers).to_dict()
    assert result["grade"] is not None and 0 <= result["grade"]["code"] <= 5
