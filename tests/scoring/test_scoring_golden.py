"""Golden cases for every shipped pack (the numbers come from ../shared/standards/)."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

import instruments
from scoring import score


def gbt42195_answers(total: int) -> dict[str, Any]:
    """GB/T 42195 answers adding up to `total` (filled item by item from the top)."""
    definition = instruments.get("gbt42195-2022")
    answers: dict[str, Any] = {}
    left = total
    for section in definition.sections[1:]:
        for item in section.items:
            top = int(item.max_score)
            answers[item.id] = min(top, left)
            left -= answers[item.id]
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "level"),
    [(90, 0), (89, 1), (66, 1), (65, 2), (46, 2), (45, 3), (30, 3), (29, 4), (0, 4)],
)
def test_gbt42195_band_edges(gbt42195: Any, total: int, level: int) -> None:
    result = score(gbt42195, gbt42195_answers(total)).to_dict()
    assert result["total"] == total and result["max_total"] == 90
    assert result["level"]["code"] == result["preliminary_level"]["code"] == level
    assert result["adjustments"] == []


def test_gbt42195_domain_maxima(gbt42195: Any) -> None:
    result = score(gbt42195, gbt42195_answers(90)).to_dict()
    assert {k: v["max"] for k, v in result["domains"].items()} == {
        "B1": 32, "B2": 15, "B3": 28, "B4": 15}


@pytest.mark.parametrize(
    ("facts", "level", "adjustment"),
    [
        ({"A.5.11": True}, 4, "coma"),
        ({"A.4.1": ["F00-F03"]}, 2, "dementia_or_mental_disorder"),
        ({"A.4.1": ["F04-F99", "I10-I15"]}, 2, "dementia_or_mental_disorder"),
        ({"A.2.14.1": 1, "A.2.14.3": 1}, 2, "care_risk_events_30d"),
        ({"A.2.14.2": 3}, 2, "care_risk_events_30d"),
    ],
)
def test_gbt42195_each_adjustment_alone(gbt42195: Any, facts: dict[str, Any], level: int,
                                        adjustment: str) -> None:
    result = score(gbt42195, {**gbt42195_answers(70), **facts}).to_dict()
    assert result["preliminary_level"]["code"] == 1
    assert result["level"]["code"] == level
    assert [a["id"] for a in result["adjustments"]] == [adjustment]


def test_gbt42195_single_event_does_not_raise(gbt42195: Any) -> None:
    result = score(gbt42195, {**gbt42195_answers(70), "A.2.14.1": 1}).to_dict()
    assert result["level"]["code"] == 1


def test_gbt42195_stacking_policy(gbt42195: Any) -> None:
    answers = {**gbt42195_answers(70), "A.4.1": ["F00-F03"], "A.2.14.1": 2}
    once = score(gbt42195, answers).to_dict()
    assert once["level"]["code"] == 2 and len(once["adjustments"]) == 2
    assert any("adjustment_stacking = raise_once" in s for s in once["explanation"])
    both = score(gbt42195.with_policies(adjustment_stacking="cumulative"), answers).to_dict()
    assert both["level"]["code"] == 3


def test_gbt42195_counting_policy_named_when_it_decides(gbt42195: Any) -> None:
    answers = {**gbt42195_answers(70), "A.2.14.1": 1, "A.2.14.2": 1}
    summed = score(gbt42195, answers).to_dict()
    assert summed["level"]["code"] == 2
    assert any("care_risk_event_counting = sum" in s for s in summed["explanation"])
    per_type = score(gbt42195.with_policies(care_risk_event_counting="per_type"), answers)
    assert per_type.to_dict()["level"]["code"] == 1


def test_gbt42195_cap_at_four(gbt42195: Any) -> None:
    answers = {**gbt42195_answers(20), "A.4.1": ["F00-F03"], "A.2.14.1": 3, "A.5.11": True}
    result = score(gbt42195.with_policies(adjustment_stacking="cumulative"), answers).to_dict()
    assert result["preliminary_level"]["code"] == 4 and result["level"]["code"] == 4
    answers = {**gbt42195_answers(40), "A.4.1": ["F00-F03"], "A.2.14.1": 3}
    result = score(gbt42195.with_policies(adjustment_stacking="cumulative"), answers).to_dict()
    assert result["level"]["code"] == 4
    assert any("上限" in s for s in result["explanation"])


def test_gbt42195_coma_policy(gbt42195: Any) -> None:
    answers = {**gbt42195_answers(80), "A.5.11": True}
    assert score(gbt42195, answers).to_dict()["level"]["code"] == 4
    alt = score(gbt42195.with_policies(coma_level=3), answers).to_dict()
    assert alt["level"]["code"] == 3
    assert any("coma_level = 3" in s for s in alt["explanation"])


# --- MZ/T 039 ---------------------------------------------------------------------------


def mzt_answers(adl: int = 100, mental: tuple[int, int, int] = (0, 0, 0),
                sensory: tuple[int, int, int, int] = (0, 0, 0, 0),
                social: tuple[int, ...] = (0, 0, 0, 0, 0)) -> dict[str, Any]:
    definition = instruments.get("mzt039-2013")
    answers: dict[str, Any] = {}
    left = adl
    for item in definition.section("ADL").items:
        answers[item.id] = next(o.value for o in item.options if o.value <= left)
        left -= answers[item.id]
    assert left == 0, adl
    answers.update(zip(["B.2.1", "B.2.2", "B.2.3"], mental, strict=True))
    answers.update(zip(["B.3.1", "B.3.2", "B.3.3", "B.3.4"], sensory, strict=True))
    answers.update(zip(["B.4.1", "B.4.2", "B.4.3", "B.4.4", "B.4.5"], social, strict=True))
    return answers


def grades(result: dict[str, Any]) -> dict[str, int]:
    return {k: v["grade"]["code"] for k, v in result["domains"].items()}


@pytest.mark.parametrize(("adl", "grade"), [(100, 0), (95, 1), (65, 1), (60, 2), (45, 2),
                                             (40, 3), (0, 3)])
def test_mzt_adl_grade_edges(adl: int, grade: int) -> None:
    result = score(instruments.get("mzt039-2013"), mzt_answers(adl)).to_dict()
    assert grades(result)["ADL"] == grade


@pytest.mark.parametrize(("mental", "grade"), [((0, 0, 0), 0), ((1, 0, 0), 1), ((1, 1, 0), 2),
                                                ((1, 1, 1), 2), ((2, 2, 0), 3), ((2, 2, 2), 3)])
def test_mzt_mental_grade_edges(mental: tuple[int, int, int], grade: int) -> None:
    result = score(instruments.get("mzt039-2013"), mzt_answers(mental=mental)).to_dict()
    assert grades(result)["MENTAL"] == grade


@pytest.mark.parametrize(("social", "grade"), [((0, 0, 0, 0, 2), 0), ((0, 0, 0, 0, 3), 1),
                                                ((3, 4, 0, 0, 0), 1), ((4, 4, 0, 0, 0), 2),
                                                ((4, 4, 4, 1, 0), 2), ((4, 4, 4, 2, 0), 3),
                                                ((4, 4, 4, 4, 4), 3)])
def test_mzt_social_grade_edges(social: tuple[int, ...], grade: int) -> None:
    result = score(instruments.get("mzt039-2013"), mzt_answers(social=social)).to_dict()
    assert grades(result)["SOCIAL"] == grade


@pytest.mark.parametrize(("sensory", "grade"), [((0, 0, 0, 0), 0), ((0, 1, 1, 0), 0),
                                                 ((0, 2, 0, 0), 1), ((0, 0, 0, 2), 2),
                                                 ((1, 0, 0, 0), 2), ((2, 0, 0, 0), 3),
                                                 ((0, 4, 0, 0), 3), ((0, 0, 2, 3), 3)])
def test_mzt_sensory_grade_worst_first(sensory: tuple[int, int, int, int], grade: int) -> None:
    result = score(instruments.get("mzt039-2013"), mzt_answers(sensory=sensory)).to_dict()
    assert grades(result)["SENSORY"] == grade


# (ADL grade source, mental, sensory, social) → level under the default policies
COMBINED = [
    (mzt_answers(), 0),
    (mzt_answers(social=(0, 0, 0, 0, 3)), 0),                 # SOCIAL 1
    (mzt_answers(mental=(1, 0, 0)), 1),
    (mzt_answers(adl=90), 1),
    (mzt_answers(adl=90, mental=(2, 2, 2)), 2),               # ADL 1 + a domain at 3
    (mzt_answers(adl=60, mental=(1, 0, 0)), 2),
    (mzt_answers(adl=60, mental=(2, 2, 2)), 3),
    (mzt_answers(adl=40), 3),
    (mzt_answers(social=(4, 4, 4, 2, 0)), 1),                 # gap (0,0,0,3): policy
    (mzt_answers(adl=60), 2),                                 # gap (2,0,0,0): policy
]


@pytest.mark.parametrize(("answers", "level"), COMBINED)
def test_mzt_combined_cases(answers: dict[str, Any], level: int) -> None:
    result = score(instruments.get("mzt039-2013"), answers).to_dict()
    assert result["preliminary_level"]["code"] == level


def test_mzt_gap_policy_is_named() -> None:
    definition = instruments.get("mzt039-2013")
    result = score(definition, mzt_answers(adl=60)).to_dict()
    assert any("combination_gaps" in w for w in result["warnings"])
    worst = score(definition.with_policies(combination_gaps="most_severe_domain"),
                  mzt_answers(social=(4, 4, 4, 2, 0))).to_dict()
    assert worst["preliminary_level"]["code"] == 3


def test_mzt_literal_text_gaps_are_nine() -> None:
    definition = instruments.get("mzt039-2013")
    rule = next(r for r in definition.rules if r.type == "decision_table" and r.target == "level")
    from scoring import parse_expression
    conds = [parse_expression(row.when) for row in rule.rows]
    unmatched = 0
    for a, m, s, so in product(range(4), repeat=4):
        values = {"ADL_grade": a, "MENTAL_grade": m, "SENSORY_grade": s, "SOCIAL_grade": so}
        if not any(c.evaluate(values) for c in conds):
            unmatched += 1
    assert unmatched == 9


def test_mzt_adjustments_and_cap() -> None:
    definition = instruments.get("mzt039-2013")
    coma = score(definition, mzt_answers(sensory=(3, 0, 0, 0))).to_dict()
    assert coma["level"]["code"] == 3
    raised = score(definition, {**mzt_answers(mental=(2, 0, 0)), "C.events.fall": 2}).to_dict()
    assert raised["preliminary_level"]["code"] == 1 and raised["level"]["code"] == 3
    severe = score(definition, {**mzt_answers(adl=40), "C.dementia": True}).to_dict()
    assert severe["level"]["code"] == 3


# --- Barthel, GB/T 37276, community stars, medals, GB 38600 -------------------------------


@pytest.mark.parametrize(("total", "level"), [(100, 0), (95, 1), (65, 1), (60, 2), (45, 2),
                                               (40, 3), (0, 3)])
def test_barthel_bands(total: int, level: int) -> None:
    definition = instruments.get("barthel")
    answers: dict[str, Any] = {}
    left = total
    for item in definition.sections[0].items:
        answers[item.id] = next(o.value for o in item.options if o.value <= left)
        left -= answers[item.id]
    result = score(definition, answers).to_dict()
    assert result["total"] == total and result["level"]["code"] == level


def full(fraction: float) -> dict[str, float]:
    return {"environment": 120 * fraction, "facilities": 130 * fraction,
            "operations": 150 * fraction, "services": 600 * fraction}


@pytest.mark.parametrize(("answers", "level", "floors_failed"), [
    (full(0.9), 5, 0),
    ({**full(0.95), "services": 530}, 4, 1),
    (full(0.8), 4, 0),
    ({**full(0.85), "environment": 90}, 3, 1),
    (full(0.6), 3, 0),
    ({**full(0.62), "facilities": 70}, 2, 1),
    (full(0.5), 2, 0),
    ({**full(0.5), "operations": 70}, 1, 1),
    (full(0.4), 1, 0),
    ({**full(0.45), "services": 230}, 0, 1),
    (full(0.3), 0, 0),
])
def test_gbt37276_levels_and_floors(answers: dict[str, float], level: int,
                                    floors_failed: int) -> None:
    result = score(instruments.get("gbt37276-2018"), answers).to_dict()
    assert result["grade"]["code"] == level and result["grade"]["stars"] == level
    assert len(result["floors_failed"]) == floors_failed


def test_gbt37276_veto_and_first_application_cap() -> None:
    definition = instruments.get("gbt37276-2018")
    vetoed = score(definition, full(1), {"veto": ["major_accident_3y"]}).to_dict()
    assert vetoed["vetoed"] and vetoed["grade"]["code"] == 0
    assert vetoed["vetoes"][0]["label"] == "3年内发生较大及以上安全责任事故"
    first = {"first_application": True}
    assert score(definition, full(1), first).to_dict()["grade"]["code"] == 5  # off by default
    capped = score(definition.with_policies(first_application_cap=True), full(1), first)
    assert capped.to_dict()["grade"]["code"] == 3
    assert definition.validity_years == 3


@pytest.mark.parametrize(("total", "stars", "unqualified"),
                         [(90, 5, False), (89.5, 4, False), (80, 4, False), (70, 3, False),
                          (69.5, 0, False), (60, 0, False), (59.5, 0, True)])
def test_community_star_edges(total: float, stars: int, unqualified: bool) -> None:
    answers = {"facilities": 30, "operations": 30, "services": total - 60} if total >= 60 else \
        {"facilities": 20, "operations": 20, "services": total - 40}
    result = score(instruments.get("community-star"), answers).to_dict()
    assert result["grade"]["stars"] == stars and result["unqualified"] is unqualified
    assert any("示例" in w for w in result["warnings"])


def test_community_star_checklist_findings() -> None:
    definition = instruments.get("community-star")
    answers = {i: ("pass" if item.type == "single_choice" else 0)
               for i, item in definition.items.items()}
    answers.update({"facilities.F3": 2, "operations.O4": "fail"})
    result = score(definition, answers).to_dict()
    assert result["total"] == 90 and result["grade"]["stars"] == 5
    assert {(f["item"], f["points_lost"], f["severity"]) for f in result["findings"]} == {
        ("facilities.F3", 4, "critical"), ("operations.O4", 6, "critical")}


@pytest.mark.parametrize(("total", "medal"), [(90, "gold"), (80, "silver"), (70, "bronze"),
                                               (69, "none")])
def test_medal_example(total: int, medal: str) -> None:
    answers = {"facilities": 30, "operations": 30, "services": total - 60}
    assert score(instruments.get("medal-example"), answers).to_dict()["grade"]["medal"] == medal


def test_gb38600_any_fail_is_a_finding() -> None:
    definition = instruments.get("gb38600-safety")
    answers = dict.fromkeys(definition.items, "pass")
    assert score(definition, answers).to_dict()["grade"]["code"] == 1
    answers.update({"scald": "fail", "wandering": "na"})
    result = score(definition, answers).to_dict()
    assert result["grade"]["code"] == 0 and result["max_total"] == 8
    assert [f["item"] for f in result["findings"]] == ["scald"]


@pytest.mark.parametrize(("total", "stars"), [(90, 5), (80, 4), (70, 3), (60, 0)])
def test_community_star_thresholds_exactly_through_the_checklist(total: int, stars: int) -> None:
    """'以上' includes the number: exactly 90 / 80 / 70 reach the level, exactly 60 qualifies."""
    definition = instruments.get("community-star")
    answers: dict[str, Any] = {}
    lost = 100 - total
    for item_id, item in definition.items.items():
        if item.type == "deduction":  # lose whole points on the 1-point-per-defect item first
            per = item.per or 1
            defects = min(int(lost // per), int((item.points or 0) // per))
            answers[item_id] = defects
            lost -= defects * per
        else:
            answers[item_id] = "pass"
    assert lost == 0
    result = score(definition, answers).to_dict()
    assert result["total"] == total
    assert result["grade"]["stars"] == stars and result["unqualified"] is False
    assert not any("整改" in step for step in result["explanation"])


def test_community_star_rectification_deadline_is_a_policy() -> None:
    definition = instruments.get("community-star")
    assert definition.rectification_days == 30
    assert definition.policies["rectification_days"].value == 30
    low = score(definition, {"facilities": 20, "operations": 20, "services": 19.5})
    assert low.unqualified is True and "rectification_days" in low.policies_applied
    assert any("限 30 天内整改" in s and "rectification_days = 30" in s for s in low.explanation)
    assert any("rectify within 30 days" in s for s in low.explanation_en)
    local = definition.with_policies(rectification_days=60)
    assert local.rectification_days == 60
    assert any("限 60 天内整改" in s for s in score(local, {"facilities": 20, "operations": 20,
                                                           "services": 19.5}).explanation)
    ok = score(definition, {"facilities": 20, "operations": 20, "services": 20})
    assert ok.unqualified is False and ok.policies_applied == ()


def test_gbt42195_float_answers_score_like_integers(gbt42195: Any) -> None:
    """2.0 is accepted for option 2; the result is the same as for integer answers."""
    answers = {**gbt42195_answers(65), "A.4.1": ["F00-F03"], "A.2.14.1": 1, "A.2.14.2": 1}
    floats = {k: float(v) if type(v) is int and not k.startswith("A.") else v
              for k, v in answers.items()}
    assert score(gbt42195, floats).to_dict() == score(gbt42195, answers).to_dict()
