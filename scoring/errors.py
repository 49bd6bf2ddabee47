"""Error codes and messages of the engine, in one table (zh first, en second)."""

from __future__ import annotations

from typing import Any, NamedTuple

# code -> (zh template, en template); templates use str.format fields.
MESSAGES: dict[str, tuple[str, str]] = {
    # answers
    "unknown_item": (
        "未知的题目编号 {name}；允许的编号见定义 {definition}",
        "unknown item id {name}; see definition {definition} for the allowed ids",
    ),
    "not_an_option": (
        "{value} 不是可选项；允许的值：{allowed}",
        "{value} is not an option; allowed values: {allowed}",
    ),
    "not_options": (
        "{value} 中含有非可选项；允许的值：{allowed}",
        "{value} contains values that are not options; allowed values: {allowed}",
    ),
    "duplicate_option": (
        "多选答案中有重复的值 {value}",
        "the multiple-choice answer repeats {value}",
    ),
    "out_of_range": (
        "{value} 超出范围；允许 {minimum} 至 {maximum}",
        "{value} is out of range; allowed {minimum} to {maximum}",
    ),
    "not_multiple": (
        "{value} 不是 {step} 的整数倍",
        "{value} is not a multiple of {step}",
    ),
    "required": (
        "必填项未作答；{allowed}",
        "required item not answered; {allowed}",
    ),
    "required_section": (
        "必填分项未录入；请录入分项得分（0 至 {maximum}）",
        "required section not entered; give the section score (0 to {maximum})",
    ),
    "wrong_type": (
        "类型错误：收到 {got}，应为{expected}",
        "wrong type: got {got}, expected {expected}",
    ),
    "bad_date": (
        "{value} 不是有效日期；应为 YYYY-MM-DD",
        "{value} is not a valid date; expected YYYY-MM-DD",
    ),
    "too_long": (
        "文本过长（{length} 字）；最多 {maximum} 字",
        "text too long ({length} characters); at most {maximum}",
    ),
    "constraint": ("{message}", "{message_en}"),
    "calculated_item": (
        "该项由系统计算，不能直接填写",
        "this item is calculated and cannot be answered",
    ),
    "not_applicable_refused": (
        "该项不允许标记为不适用（na）",
        "this item may not be marked not applicable (na)",
    ),
    "section_and_items": (
        "分项 {section} 已直接录入分数，不能同时填写其明细项 {items}",
        "section {section} was entered as a score; do not also answer its items {items}",
    ),
    "bad_input": (
        "输入格式错误：{detail}",
        "malformed input: {detail}",
    ),
    "bad_fact": (
        "事实数据 {fact} 无效：{detail}",
        "fact {fact} is invalid: {detail}",
    ),
    # definitions
    "schema": ("字段 {field} 无效：{detail}", "field {field} is invalid: {detail}"),
    "duplicate_id": ("编号 {id} 重复", "duplicate id {id}"),
    "expression": ("表达式错误（第 {position} 列）：{detail}", "expression error at column {position}: {detail}"),
    "unknown_reference": (
        "表达式引用了未知的名称 {name}",
        "the expression refers to an unknown name {name}",
    ),
    "unknown_function": ("未知函数 {name}", "unknown function {name}"),
    "unknown_level": ("等级代码 {level} 未在等级表中定义", "level code {level} is not in the scale"),
    "unknown_section": ("未知分项 {section}", "unknown section {section}"),
    "unknown_policy": ("未声明的政策设置 {policy}", "undeclared policy setting {policy}"),
    "bad_policy_value": (
        "政策 {policy} 的取值 {value} 不在可选范围 {choices} 内",
        "policy {policy} value {value} is not one of {choices}",
    ),
    "band_gap": (
        "分数段之间有空档：{low} 与 {high} 之间的分数没有对应等级",
        "bands leave a gap: scores between {low} and {high} map to no level",
    ),
    "band_overlap": (
        "分数段重叠：{low} 至 {high} 同时属于多个等级",
        "bands overlap: scores {low} to {high} belong to more than one level",
    ),
    "band_coverage": (
        "分数段未覆盖 {low} 至 {high}",
        "bands do not cover {low} to {high}",
    ),
    "max_mismatch": (
        "{what} 声明的满分 {declared} 与各项满分之和 {computed} 不一致",
        "{what} declares max {declared} but its items add up to {computed}",
    ),
    "bad_option": ("选项定义错误：{detail}", "bad option: {detail}"),
    "yaml": ("YAML 语法错误：{detail}", "YAML syntax error: {detail}"),
    "rule": ("规则定义错误：{detail}", "bad rule: {detail}"),
}


class Bi(NamedTuple):
    """A message parameter with a Chinese and an English form."""

    zh: str
    en: str


def render(code: str, **params: Any) -> tuple[str, str]:
    """Return the (zh, en) message for an error code filled with params."""
    zh, en = MESSAGES[code]
    zh_params = {k: v.zh if isinstance(v, Bi) else v for k, v in params.items()}
    en_params = {k: v.en if isinstance(v, Bi) else v for k, v in params.items()}
    return zh.format(**zh_params), en.format(**en_params)


def answer_error(item: str | None, code: str, **params: Any) -> dict[str, Any]:
    """Build one answer error dict: item, message (zh), message_en, code."""
    zh, en = render(code, **params)
    return {"item": item, "message": zh, "message_en": en, "code": code}


def definition_error(
    source: str,
    item: str | None,
    code: str,
    *,
    field: str | None = None,
    position: int | str | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Build one definition error dict naming source, item, field, position and message."""
    zh, en = render(code, position=position, field=field, **params)
    return {
        "source": source,
        "item": item,
        "field": field,
        "position": position,
        "message": zh,
        "message_en": en,
        "code": code,
    }


class ScoringError(Exception):
    """Base class of engine errors; `.errors` lists every problem found."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0]["message"] if errors else ""
        more = f" (+{len(errors) - 1})" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")


class DefinitionError(ScoringError):
    """A definition (pack) is invalid: `.errors` name source, item, field, position, message."""


class AnswerError(ScoringError):
    """Answers do not fit the definition: `.errors` are `{"item", "message", ...}` dicts."""


class ExpressionError(Exception):
    """A syntax or reference error in an expression, with the column (1-based)."""

    def __init__(self, detail: str, position: int, code: str = "expression", **params: Any):
        self.detail = detail
        self.position = position
        self.code = code
        self.params = params
        super().__init__(f"{detail} (column {position})")
