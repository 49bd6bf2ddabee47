"""The downloadable spreadsheet template: every sheet with its columns and a small worked example
that imports as it is (a test keeps it so)."""

from __future__ import annotations

import io

import yaml
from openpyxl import load_workbook

from .xlsx import rows_to_xlsx, workbook_rows

EXAMPLE = """
id: my-questionnaire
version: "1"
kind: assessment
title: {zh: 示例问卷（请改成自己的）, en: Example questionnaire (make it your own)}
description: {zh: 两道计分题、一个分级表和一项政策设置的最小例子。}
levels:
  - {code: 0, label: {zh: 能力完好, en: Independent}}
  - {code: 1, label: {zh: 需要帮助, en: Needs help}}
policies:
  strict_bands:
    value: true
    choices: [true, false]
    title: {zh: 分数段严格, en: Strict bands}
sections:
  - id: daily
    title: {zh: 日常活动, en: Daily activities}
    max: 20
    required: true
    items:
      - id: eating
        type: single_choice
        title: {zh: 进食, en: Eating}
        hint: {zh: 按最近一周的情况}
        required: true
        options:
          - {value: 10, label: {zh: 独立, en: Independent}}
          - {value: 0, label: {zh: 需要帮助, en: Needs help}}
      - id: walking
        type: single_choice
        title: {zh: 行走, en: Walking}
        relevant: eating == 10
        options:
          - {value: 10, label: {zh: 独立, en: Independent}}
          - {value: 0, label: {zh: 需要帮助, en: Needs help}}
rules:
  - type: bands
    label: {zh: 分级, en: Grade}
    step: 10
    bands:
      - {code: 0, min: 20, max: 20}
      - {code: 1, min: 0, max: 10}
"""

INSTRUCTIONS = [
    ("sheet", "说明 / what it holds"),
    ("settings", "form_id、version、title::zh、title::en、kind（assessment 或 rating）及其他整体设置"),
    ("survey", "每行一道题；begin group / end group 行包住一个分项；type 用 select_one 列表名、select_multiple、"
               "integer、decimal、text、date、boolean 等"),
    ("choices", "选项：list_name 对应 survey 的列表名，name 是存储的取值，score 是分值"),
    ("sections", "分项的满分 max、是否必填 required、权重 weight"),
    ("levels", "等级：code、label::zh、label::en（评定方案可加 stars、medal）"),
    ("policies", "政策设置：name、value、choices:json（可选值）"),
    ("rules", "计分规则，每行一条，按顺序执行；rule 列是规则编号"),
    ("bands", "分数段：rule（规则编号）、code、min、max"),
    ("adjustments / vetoes / floors", "等级调整、一票否决代码、分项最低分，rule 列同上"),
    ("x::zh / x::en", "同一文字的中文和英文；x:json 列写 JSON 值"),
]


def template_xlsx() -> bytes:
    """The template workbook (bytes)."""
    data = rows_to_xlsx(workbook_rows(yaml.safe_load(EXAMPLE)))
    wb = load_workbook(io.BytesIO(data))
    notes = wb.create_sheet("说明", 0)
    for row in INSTRUCTIONS:
        notes.append(list(row))
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = ["EXAMPLE", "template_xlsx"]
