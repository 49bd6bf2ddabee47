"""Forms built from definition items: field per type, N/A, typed input kept, errors attached."""

from werkzeug.datastructures import MultiDict

from forms.definition import (
    FIELD_BUILDERS,
    answers_from_form,
    attach_errors,
    build_form_class,
    field_name,
    form_data_from_answers,
)
from scoring import load_definition_text, validate_answers

DEFINITION = load_definition_text("""
id: tiny
version: "1"
kind: assessment
title: 小测
sections:
  - id: S
    title: 分项
    items:
      - id: S.1
        type: single_choice
        title: 进食
        options: [{value: 10, label: 自理}, {value: 5, label: 部分帮助}, {value: 0, label: 依赖}]
      - id: S.2
        type: count
        title: 跌倒次数
        max: 3
        not_applicable_allowed: true
      - id: S.3
        type: multiple_choice
        title: 诊断
        options: [{value: a, label: 甲}, {value: b, label: 乙}]
      - id: S.4
        type: boolean
        title: 昏迷
      - id: S.5
        type: text
        title: 备注
      - id: S.6
        type: date
        title: 日期
      - id: S.7
        type: single_choice
        title: 可不适用
        not_applicable_allowed: true
        options: [{value: 1, label: 是}, {value: 0, label: 否}]
""")
ITEMS = DEFINITION.sections[0].items


def _form(pairs):
    return build_form_class(ITEMS)(formdata=MultiDict(pairs))


def test_every_item_type_has_a_builder():
    for kind in ("single_choice", "multiple_choice", "integer", "decimal", "boolean", "date", "text",
                 "count", "section_score", "deduction", "signature", "photo", "evidence"):
        assert kind in FIELD_BUILDERS


def test_answers_are_typed_like_the_definition():
    form = _form([("q_S_1", "5"), ("q_S_2", "2"), ("q_S_3", "a"), ("q_S_3", "b"), ("q_S_4", "false"),
                  ("q_S_5", "说明"), ("q_S_6", "2025-01-02"), ("q_S_7", "na")])
    answers = answers_from_form(form)
    assert answers == {"S.1": 5, "S.2": 2, "S.3": ["a", "b"], "S.4": False, "S.5": "说明",
                       "S.6": "2025-01-02", "S.7": "na"}
    assert validate_answers(DEFINITION, answers) == []


def test_not_applicable_checkbox_for_typed_inputs():
    form = _form([("q_S_2", ""), ("q_S_2__na", "y")])
    assert answers_from_form(form)["S.2"] == "na"


def test_what_the_user_typed_is_kept_and_the_engine_error_shown():
    form = _form([("q_S_2", "七")])
    answers = answers_from_form(form)
    assert answers["S.2"] == "七"
    errors = validate_answers(DEFINITION, {k: v for k, v in answers.items() if v is not None}, partial=True)
    rest = attach_errors(form, errors)
    assert rest == []
    assert form[field_name("S.2")].errors
    assert 'value="七"' in str(form[field_name("S.2")]())


def test_prefill_round_trips():
    saved = {"S.1": 0, "S.2": "na", "S.3": ["b"], "S.4": True, "S.7": "na"}
    form = build_form_class(ITEMS)(data=form_data_from_answers(ITEMS, saved))
    assert {k: v for k, v in answers_from_form(form).items() if v is not None} == saved


def test_option_labels_show_scores_and_na():
    form = build_form_class(ITEMS)()
    html = str(form[field_name("S.7")]())
    assert "不适用" in html
    assert "部分帮助（5 分）" in str(form[field_name("S.1")]())
