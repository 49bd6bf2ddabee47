"""Engine behaviour on tiny inline definitions (no app, no database)."""

from __future__ import annotations

import textwrap

import pytest

from scoring import (
    AnswerError,
    DefinitionError,
    load_definition_text,
    parse_expression,
    score,
    validate_answers,
)
from scoring.errors import ExpressionError


def define(text: str):
    return load_definition_text(textwrap.dedent(text), source="inline.yaml")


TINY = """
id: tiny
version: 1
kind: assessment
title: 小量表
levels:
  - {code: 0, label: {zh: 好, en: good}}
  - {code: 1, label: {zh: 差, en: poor}}
sections:
  - id: S
    title: 分项
    required: true
    items:
      - id: q1
        type: single_choice
        title: 问题一
        options: [{value: 2}, {value: 1}, {value: 0}]
      - id: q2
        type: single_choice
        title: 问题二
        options: [{value: a, score: 3}, {value: b, score: 0}]
      - id: why
        type: text
        title: 原因
        relevant: q1 == 0
        required: true
rules:
  - type: bands
    bands:
      - {code: 0, min: 3, max: 5}
      - {code: 1, min: 0, max: 2}
"""


def test_scores_sum_and_band() -> None:
    result = score(define(TINY), {"q1": 2, "q2": "a"}).to_dict()
    assert result["total"] == 5 and result["max_total"] == 5
    assert result["domains"]["S"] == {"score": 5, "max": 5, "label": "分项", "label_en": "分项"}
    assert result["level"]["code"] == 0 and result["level"]["label"] == "好"
    assert result["preliminary_level"] == result["level"]
    assert "总分 5（3–5）→ 好" in result["explanation"]


def test_every_answer_problem_is_listed_at_once() -> None:
    with pytest.raises(AnswerError) as caught:
        score(define(TINY), {"q1": 7, "q2": ["a"], "zz": 1})
    codes = {(e["item"], e["code"]) for e in caught.value.errors}
    assert codes == {("q1", "not_an_option"), ("q2", "wrong_type"), ("zz", "unknown_item")}
    assert all(e["message"] and e["message_en"] for e in caught.value.errors)
    assert "2、1、0" in caught.value.errors[0]["message"]


def test_required_after_skip_logic() -> None:
    definition = define(TINY)
    errors = validate_answers(definition, {"q1": 0, "q2": "b"})
    assert [(e["item"], e["code"]) for e in errors] == [("why", "required")]
    assert validate_answers(definition, {"q1": 1, "q2": "b"}) == []
    assert validate_answers(definition, {"q1": 0}, partial=True) == []
    assert definition.relevant_items({"q1": 0}) == {"q1", "q2", "why"}
    assert definition.relevant_items({"q1": 2}) == {"q1", "q2"}


def test_skip_logic_is_exposed_as_json() -> None:
    logic = define(TINY).skip_logic()
    assert logic["why"]["relevant"] == {"source": "q1 == 0", "ast": ["==", {"ref": "q1"}, 0]}


def test_bool_is_not_an_integer_option() -> None:
    with pytest.raises(AnswerError):
        score(define(TINY), {"q1": True, "q2": "a"})


def test_broken_definition_names_source_item_and_position() -> None:
    broken = TINY.replace("relevant: q1 == 0", "relevant: q1 == = 0")
    with pytest.raises(DefinitionError) as caught:
        define(broken)
    error = caught.value.errors[0]
    assert error["source"] == "inline.yaml" and error["item"] == "why"
    assert error["position"] == 7 and "relevant" in error["field"]


def test_unknown_reference_and_key_refused() -> None:
    with pytest.raises(DefinitionError) as caught:
        define(TINY.replace("relevant: q1 == 0", "relevant: q9 == 0"))
    assert caught.value.errors[0]["code"] == "unknown_reference"
    with pytest.raises(DefinitionError) as caught:
        define(TINY.replace("title: 小量表", "title: 小量表\ncolour: red"))
    assert caught.value.errors[0]["field"] == "colour"


@pytest.mark.parametrize(
    ("bands", "code"),
    [
        ("[{code: 0, min: 4, max: 5}, {code: 1, min: 0, max: 2}]", "band_gap"),
        ("[{code: 0, min: 2, max: 5}, {code: 1, min: 0, max: 2}]", "band_overlap"),
    ],
)
def test_band_gaps_and_overlaps_refused(bands: str, code: str) -> None:
    text = TINY.split("rules:")[0] + f"rules:\n  - type: bands\n    bands: {bands}\n"
    with pytest.raises(DefinitionError) as caught:
        define(text)
    assert caught.value.errors[0]["code"] == code
    allowed = text.replace("bands: [", "allow_gaps: true\n    allow_overlaps: true\n    bands: [")
    assert define(allowed).id == "tiny"


def test_expression_language() -> None:
    values = {"a": 2, "b": None, "codes": ["F00-F03"], "x-y": 1}
    cases = {
        "a + 1 * 3": 5,
        "(a + 1) * 3": 9,
        "b > 1": False,
        "b + 1": None,
        "not b": True,
        "sum(a, b, 3)": 5,
        "count(a == 2, b, true)": 2,
        "max(a, 7, b)": 7,
        "'F00-F03' in codes": True,
        "any_in(codes, ['F04-F99'])": False,
        "a in [1, 2] and a != 3": True,
        "${x-y} = 1": True,
        "if(a > 1, 'big', 'small')": "big",
        "facts.first == true": True,
        "-a + 1 / 2": -1.5,
        "a / 0": None,
    }
    for text, expected in cases.items():
        assert parse_expression(text).evaluate(values, {"first": True}) == expected, text


def test_expression_shortcuts_keep_values_and_errors() -> None:
    """The compiler folds literal truth values and fuses common shapes (scoring/expressions.py
    `_simplify`); each shape gives the value, the type and the error the plain form gives."""
    values = {"a": 2, "b": None, "codes": ["F00-F03"], "own": "", "flag": True}
    cases = {
        "a and true": True,
        "true and a": True,
        "a or false": True,
        "b or false": False,
        "false or b": False,
        "false and (a in 5)": False,
        "true or (a in 5)": True,
        "not (flag == true and true)": False,
        "not (b == 2)": True,
        "(a == 2 and true) or answered(.)": True,
        "answered(.)": False,
        "len(codes)": 1,
        "any_in(codes, ['F00-F03', 'F04-F99'])": True,
        "contains(codes, 'F04-F99')": False,
        "coalesce(b, 'x')": "x",
    }
    for text, expected in cases.items():
        got = parse_expression(text, self_name="own").evaluate(values, {})
        assert got == expected and type(got) is type(expected), text
    for text in ("(a in 5) and false", "(a in 5) or true", "not ((a in 5) and true)"):
        with pytest.raises(TypeError):
            parse_expression(text).evaluate(values, {})


@pytest.mark.parametrize("text", ["a +", "(a", "a ; b", "nope(1)", "", "'open"])
def test_expression_errors_have_a_column(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.position >= 1


def test_constraint_message_and_na() -> None:
    definition = define("""
    id: c
    version: 1
    kind: rating
    title: 检查
    levels: [{code: 0, label: 否}, {code: 1, label: 是}]
    sections:
      - id: s
        title: 分项
        required: true
        items:
          - id: beds
            type: integer
            title: 床位
            min: 0
            constraint: ". <= 500"
            constraint_message: {zh: 床位不能超过500张, en: at most 500 beds}
          - id: door
            type: single_choice
            title: 门
            not_applicable_allowed: true
            options: [{value: pass, score: 2}, {value: fail, score: 0}]
          - id: lift
            type: single_choice
            title: 电梯
            severity: critical
            options: [{value: pass, score: 2}, {value: fail, score: 0}]
    rules:
      - {type: bands, source: percent, bands: [{code: 1, min: 60}, {code: 0, min: 0}]}
    """)
    errors = validate_answers(definition, {"beds": 900, "door": "na", "lift": "pass"})
    assert errors[0]["message"] == "beds 床位：床位不能超过500张" and errors[0]["label"] == "床位"
    result = score(definition, {"beds": 10, "door": "na", "lift": "fail"}).to_dict()
    assert result["total"] == 0 and result["max_total"] == 2
    assert result["sections"]["s"]["not_applicable"] == 1
    assert result["findings"] == [{"item": "lift", "section": "s", "label": "电梯",
                                   "label_en": "电梯", "points_lost": 2, "severity": "critical"}]
    with pytest.raises(AnswerError):
        score(definition, {"beds": 10, "door": "pass", "lift": "na"})


RATED = """
id: r
version: 1
kind: rating
title: 评定
levels:
  - {code: 0, label: 无, stars: 0}
  - {code: 1, label: 一星, stars: 1}
  - {code: 2, label: 二星, stars: 2}
policies:
  first_cap: {value: true, choices: [true, false], title: 首评上限}
sections:
  - id: a
    title: 甲
    max: 10
    required: true
    items:
      - {id: a1, type: deduction, title: 扣分项, points: 6, per: 0.5}
      - {id: a2, type: single_choice, title: 事故, veto: accident,
         options: [{value: none, score: 4}, {value: some, score: 0}]}
  - {id: b, title: 乙, max: 10, required: true}
rules:
  - type: veto
    grade: 0
    codes: [{code: accident, label: 发生事故}, {code: fraud, label: 造假}]
  - type: bands
    bands: [{code: 2, min: 15, section_floor: 0.8}, {code: 1, min: 10}, {code: 0, min: 0}]
  - type: cap
    when: facts.first == true
    max: 1
    enabled: {policy: first_cap}
  - {type: unqualified, below: 10, rectification_days: 30}
"""


def test_deduction_floors_veto_cap_and_direct_entry() -> None:
    definition = define(RATED)
    result = score(definition, {"a1": 3, "a2": "none", "b": 10}).to_dict()
    assert result["sections"]["a"]["score"] == 8.5 and result["total"] == 18.5
    assert result["grade"] == {"code": 2, "label": "二星", "label_en": "二星", "stars": 2}
    assert result["findings"][0]["points_lost"] == 1.5
    floored = score(definition, {"a": 7, "b": 10}).to_dict()
    assert floored["grade"]["code"] == 1
    assert floored["floors_failed"] == [{"level": 2, "section": "a", "score": 7, "required": 8,
                                         "max": 10}]
    capped = score(definition, {"a": 10, "b": 10}, {"first": True}).to_dict()
    assert capped["grade"]["code"] == 1
    assert any("first_cap" in step for step in capped["explanation"])
    vetoed = score(definition, {"a1": 0, "a2": "some", "b": 10}).to_dict()
    assert vetoed["vetoed"] and vetoed["grade"]["code"] == 0
    assert vetoed["vetoes"][0]["code"] == "accident"
    assert vetoed["findings"][0]["severity"] == "critical"
    assert score(definition, {"a": 9, "b": 10}, {"veto": ["fraud"]}).to_dict()["vetoed"]
    low = score(definition, {"a": 2, "b": 2}).to_dict()
    assert low["unqualified"] is True and definition.rectification_days == 30
    with pytest.raises(AnswerError) as caught:
        score(definition, {"a": 11, "a1": 1, "b": 1}, {"veto": ["nope"]})
    assert {e["code"] for e in caught.value.errors} == {"out_of_range", "not_options", "required"}
    assert definition.with_policies(first_cap=False).policy("first_cap") is False


def test_decision_table_matrix_and_relative_bands() -> None:
    definition = define("""
    id: m
    version: 1
    kind: rating
    title: 矩阵
    total: {method: none}
    levels: [{code: 1, label: 一}, {code: 2, label: 二}, {code: 3, label: 三},
             {code: 4, label: 四}, {code: 5, label: 五}]
    sections:
      - id: s
        title: s
        scored: false
        items:
          - {id: x, type: integer, title: x}
          - {id: y, type: integer, title: y}
    rules:
      - type: decision_table
        target: t
        precedence: highest
        rows: [{when: x > 1, result: 2}, {when: x > 2, result: 3}]
        default: 1
      - type: matrix
        target: mx
        row: x
        column: y
        table: {"1": {"1": 1, "2": 2}, "3": {"1": 4}}
      - type: relative_bands
        source: x
        peers: facts.peers
        cuts: [{code: 5, upto: 0.1}, {code: 4, upto: 0.3333}, {code: 3, upto: 0.5667},
               {code: 2, upto: 0.8}, {code: 1, upto: 1.0}]
    """)
    peers = list(range(1, 101))
    assert score(definition, {"x": 100, "y": 1}, {"peers": peers}).to_dict()["grade"]["code"] == 5
    assert score(definition, {"x": 85, "y": 1}, {"peers": peers}).to_dict()["grade"]["code"] == 4
    assert score(definition, {"x": 10, "y": 1}, {"peers": peers}).to_dict()["grade"]["code"] == 1
    result = score(definition, {"x": 3, "y": 1}, {"peers": peers})
    assert any("多条规则" in w for w in result.warnings)


def test_mixed_bands_are_a_definition_error_naming_the_rule() -> None:
    text = TINY.split("rules:")[0] + (
        "rules:\n  - type: bands\n    bands: [{code: 0, min: 3, max: 5}, {code: 1, min: 0}]\n")
    with pytest.raises(DefinitionError) as caught:  # was an UnboundLocalError
        define(text)
    error = caught.value.errors[0]
    assert error["source"] == "inline.yaml" and error["field"] == "rules[0].bands"


def test_every_bad_input_kind_listed_at_once_with_what_is_allowed() -> None:
    import instruments

    gbt = instruments.get("gbt42195-2022")
    answers = {f"B.1.{i}": 4 for i in range(1, 9)}
    answers.update({"B.1.1": 7, "A.2.14.1": 5, "A.5.11": "yes", "B.9.9": 1})
    with pytest.raises(AnswerError) as caught:
        score(gbt, answers)
    by_item = {e["item"]: e for e in caught.value.errors}
    assert by_item["B.1.1"]["code"] == "not_an_option"
    assert "4、3、2、1、0" in by_item["B.1.1"]["message"]  # what is allowed
    assert by_item["A.2.14.1"]["code"] == "out_of_range"
    assert "0 至 3" in by_item["A.2.14.1"]["message"] and "0 to 3" in by_item["A.2.14.1"][
        "message_en"]
    assert by_item["A.5.11"]["code"] == "wrong_type" and "true" in by_item["A.5.11"]["message"]
    assert by_item["B.9.9"]["code"] == "unknown_item"
    assert by_item["B.2.1"]["code"] == "required" and "可选" in by_item["B.2.1"]["message"]
    missing = {e["item"] for e in caught.value.errors if e["code"] == "required"}
    assert missing == {i.id for s in gbt.sections[2:] for i in s.items}
    assert all(e["message"] and e["message_en"] for e in caught.value.errors)


def test_section_and_items_errors_follow_the_definition_order() -> None:
    import instruments

    star = instruments.get("community-star")
    answers = {i: ("pass" if item.type == "single_choice" else 0) for i, item in star.items.items()}
    answers.update({"services": 30, "facilities": 20, "operations": 25})
    errors = validate_answers(star, answers)
    assert [e["item"] for e in errors if e["code"] == "section_and_items"] == [
        "facilities", "operations", "services"]


@pytest.mark.parametrize("days", ["0", "-5", "{policy: first_cap}"])
def test_rectification_days_must_be_whole_positive_days(days: str) -> None:
    text = RATED.replace("rectification_days: 30", f"rectification_days: {days}")
    with pytest.raises(DefinitionError) as caught:
        define(text)
    assert caught.value.errors[0]["field"] == "rules[3].rectification_days"
    assert caught.value.errors[0]["source"] == "inline.yaml"


GUARDED = """
id: guarded
version: 1
kind: assessment
title: 跳题
levels:
  - {code: 0, label: {zh: 好, en: good}}
sections:
  - id: A
    title: 基本
    items:
      - {id: coma, type: boolean, title: 昏迷}
      - {id: gate, type: single_choice, title: 开关, options: [{value: 1}, {value: 0}]}
      - {id: hid, type: single_choice, title: 被跳, relevant: gate == 1, options: [{value: 1}, {value: 0}]}
  - id: B
    title: 能力
    required: true
    items:
      - {id: b1, type: single_choice, title: 一, relevant: "not coma or answered(.)", options: [{value: 2}, {value: 0}]}
      - {id: b2, type: single_choice, title: 二, relevant: "not coma or answered(.)", options: [{value: 2}, {value: 0}]}
  - id: C
    title: 连带
    required: true
    items:
      - {id: c1, type: single_choice, title: 三, relevant: "hid != 1 or answered(.)", options: [{value: 2}, {value: 0}]}
      - {id: c2, type: single_choice, title: 四, relevant: "hid != 1 or answered(.)", options: [{value: 2}, {value: 0}]}
rules:
  - type: bands
    bands: [{code: 0, min: 0, max: 8}]
"""


def test_items_sharing_a_skip_condition_are_shown_hidden_and_counted_as_before() -> None:
    """B's items share `not coma` (settled once per call when it holds); C's share `hid != 1`,
    which reads an item the skip logic itself hides, so each of C's items is still asked in
    order. Either way: hidden items are not applicable, answered ones stay."""
    definition = define(GUARDED)
    shown = definition.relevant_items({"coma": False, "gate": 0})
    assert {"b1", "b2", "c1", "c2"} <= shown and "hid" not in shown
    assert not {"b1", "b2"} & definition.relevant_items({"coma": True})
    result = score(definition, {"coma": True, "b1": 2, "gate": 1, "hid": 1, "c2": 0}).to_dict()
    assert result["domains"]["B"] == {"score": 2, "max": 2, "label": "能力", "label_en": "能力",
                                      "not_applicable": 1}
    assert result["domains"]["C"]["max"] == 2 and result["domains"]["C"]["not_applicable"] == 1
    # `hid` answered but skipped (gate 0): C's condition reads it as unanswered, so C is asked
    problems = validate_answers(definition, {"coma": False, "gate": 0, "hid": 1, "b1": 2, "b2": 0})
    assert [(p["item"], p["code"]) for p in problems] == [("c1", "required"), ("c2", "required")]
    result = score(definition, {"coma": False, "gate": 0, "hid": 1, "b1": 2, "b2": 0, "c1": 0,
                                "c2": 2})
    assert result.warnings == ("hid 不适用于当前作答（跳题），其答案不计",)
