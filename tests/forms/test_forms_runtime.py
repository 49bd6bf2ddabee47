"""The one form runtime of both domains: every item type of the schema builds, round-trips and
reads the same in an assessment page and in an inspection checklist; the save contract."""

from __future__ import annotations

import typing

from werkzeug.datastructures import MultiDict

from forms.checklist import build_checklist_class, checklist_answers, checklist_data, note_name
from forms.definition import answers_from_form, build_form_class, field_name, form_data_from_answers
from forms.items import ITEM_KINDS, answer_text, client_items
from forms.save import same_answers
from scoring import load_definition_text, validate_answers
from scoring.definitions import ItemType

ITEMS_YAML = """
      - {id: X.single, type: single_choice, title: {zh: 单选, en: Single}, options: [{value: 1, label: {zh: 一, en: One}}, {value: 2, label: 二}]}
      - {id: X.multi, type: multiple_choice, title: {zh: 多选, en: Multiple}, options: [{value: a, label: {zh: 甲, en: A}}, {value: b, label: 乙}]}
      - {id: X.int, type: integer, title: 整数, min: 1, max: 5}
      - {id: X.dec, type: decimal, title: 小数, max: 2.5}
      - {id: X.bool, type: boolean, title: {zh: 是否, en: Yes or no}}
      - {id: X.date, type: date, title: 日期}
      - {id: X.text, type: text, title: 文本}
      - {id: X.count, type: count, title: 次数, max: 9}
      - {id: X.sect, type: section_score, title: 分项分, max: 50}
      - {id: X.sign, type: signature, title: 签名}
      - {id: X.photo, type: photo, title: 照片}
      - {id: X.evid, type: evidence, title: 证据}
      - {id: X.ded, type: deduction, title: 扣分, points: 10, per: 2}
"""
ANSWERS = {"X.single": 2, "X.multi": ["a", "b"], "X.int": 3, "X.dec": 1.5, "X.bool": False,
           "X.date": "2026-01-02", "X.text": "说明\\n两行", "X.count": 4, "X.sect": 40, "X.sign": "张三",
           "X.photo": ["photo:1", "photo:2"], "X.evid": ["doc:7"], "X.ded": 1}
ASSESSMENT = load_definition_text(f"""
id: every-type
version: "1"
kind: assessment
title: 全部题型
sections:
  - id: X
    title: 全部
    items:{ITEMS_YAML}
""")
RATING = load_definition_text(f"""
id: every-type-rating
version: "1"
kind: rating
title: 全部题型（评定）
levels: [{{code: 0, label: 无}}]
sections:
  - id: X
    title: {{zh: 全部, en: All}}
    items:{ITEMS_YAML}
""")


def test_the_registry_covers_every_type_of_the_schema():
    assert set(ITEM_KINDS) == set(typing.get_args(ItemType))


def test_every_type_round_trips_on_an_assessment_page():
    items = ASSESSMENT.sections[0].items
    form = build_form_class(items)(data=form_data_from_answers(items, ANSWERS))
    assert answers_from_form(form) == ANSWERS
    assert validate_answers(ASSESSMENT, ANSWERS, partial=True) == []


def test_every_type_round_trips_on_a_checklist_with_notes():
    form_class = build_checklist_class(RATING)
    form = form_class(data=checklist_data(RATING, ANSWERS, {"X.photo": "门口"}))
    answers, notes = checklist_answers(form, RATING)
    assert answers == ANSWERS and notes == {"X.photo": "门口"}
    posted = form_class(formdata=MultiDict([(field_name("X.int"), "2"), (field_name("X.multi"), "b"),
                                            (note_name("X.int"), " 查看记录 ")]))
    assert checklist_answers(posted, RATING) == ({"X.int": 2, "X.multi": ["b"]}, {"X.int": "查看记录"})


def test_a_section_entered_directly_takes_no_item_answers():
    form = build_checklist_class(RATING)(formdata=MultiDict([(field_name("X"), "88"), (field_name("X.int"), "2")]))
    assert checklist_answers(form, RATING)[0] == {"X": 88}


def test_english_titles_and_limits_on_the_checklist():
    form = build_checklist_class(RATING, lang="en")()
    html = str(form[field_name("X.int")]())
    assert 'min="1"' in html and 'max="5"' in html
    assert form[field_name("X.single")].label.text == "Single"
    assert "One" in str(form[field_name("X.single")]())
    assert form[field_name("X")].label.text.startswith("Enter this section")


def test_answers_read_as_people_read_them():
    item = ASSESSMENT.items["X.multi"]
    assert answer_text(item, ["a", "b"], "zh") == "甲、乙"
    assert answer_text(item, ["a"], "en") == "A"
    assert answer_text(ASSESSMENT.items["X.bool"], False, "en") == "No"
    assert answer_text(ASSESSMENT.items["X.photo"], ["p1", "p2"], "zh") == "2 个文件"
    assert answer_text(ASSESSMENT.items["X.int"], None) == ""
    meta = client_items(ASSESSMENT.sections[0].items, field_name)
    assert meta["X.single"]["read"] == "choice" and meta["X.single"]["options"] == {"1": 1, "2": 2}


def test_a_save_equal_to_the_stored_answers_changes_nothing():
    stored = {"A": 1, "B": [1, 2], "C": True}
    assert same_answers(stored, {"A": 1, "D": None}, whole=False)
    assert not same_answers(stored, {"A": 2}, whole=False)
    assert not same_answers(stored, {"C": 1}, whole=False)  # true is not 1
    assert same_answers(stored, {"A": 1, "B": [1, 2], "C": True, "E": ""}, whole=True)
    assert not same_answers(stored, {"A": 1}, whole=True)
    assert not same_answers(stored, ["A"], whole=True)  # type: ignore[arg-type]
