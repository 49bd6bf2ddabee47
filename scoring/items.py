"""Item types on the scoring side (ITEM_TYPES): how an answer is checked, how it scores, the most
it can score and whether it scores by default, per type. The forms side is forms/items.py."""

from __future__ import annotations

import datetime as _dt
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from .definitions import Definition, Item
from .errors import Bi, answer_error
from .plan import Check, ItemPlan
from .rules import fmt, scalar_text


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


Checker = tuple[Check, str, str]  # (check, what is allowed in Chinese, in English)
Spec = dict[str, Any]


def _spec_choice(item: Item) -> Spec:
    values = [o.value for o in item.options]
    allowed = ", ".join(scalar_text(v) for v in values)
    allowed_zh = "、".join(scalar_text(v) for v in values)
    return {"check": "choice", "values": values, "allowed": [allowed_zh, allowed],
            "expected": [f"单个值（{allowed_zh}）", f"one of {allowed}"],
            "describe": [f"可选 {allowed_zh}", f"one of {allowed}"]}


def _spec_multi(item: Item) -> Spec:
    values = [o.value for o in item.options]
    allowed = ", ".join(scalar_text(v) for v in values)
    allowed_zh = "、".join(scalar_text(v) for v in values)
    return {"check": "multi", "values": values, "allowed": [allowed_zh, allowed],
            "expected": [f"列表（可选 {allowed_zh}）", f"a list of {allowed}"],
            "describe": [f"多选，可选 {allowed_zh}", f"a list of {allowed}"]}


def _spec_boolean(item: Item) -> Spec:
    if item.options:  # a yes/no question with scored options is checked as a choice
        return _spec_choice(item)
    return {"check": "boolean", "expected": ["布尔值 true 或 false", "true or false"],
            "describe": ["true 或 false", "true or false"]}


def _spec_number(item: Item, *, integral: bool, floor: float | None = None,
                 ceiling: float | None = None) -> Spec:
    lo = item.min if item.min is not None else floor
    hi = item.max if item.max is not None else ceiling
    what_zh = "整数" if integral else "数字"
    rng_zh = (f"{what_zh}" + (f"，{fmt(lo)} 至 {fmt(hi)}" if lo is not None and hi is not None
                              else f"，不小于 {fmt(lo)}" if lo is not None
                              else f"，不大于 {fmt(hi)}" if hi is not None else ""))
    rng_en = ("an integer" if integral else "a number") + (
        f" from {fmt(lo)} to {fmt(hi)}" if lo is not None and hi is not None
        else f" ≥ {fmt(lo)}" if lo is not None else f" ≤ {fmt(hi)}" if hi is not None else "")
    return {"check": "number", "integral": integral, "min": lo, "max": hi, "step": item.step,
            "expected": [rng_zh, rng_en], "describe": [rng_zh, rng_en]}


def _spec_date(item: Item) -> Spec:
    return {"check": "date", "expected": ["日期 YYYY-MM-DD", "a date YYYY-MM-DD"],
            "describe": ["日期 YYYY-MM-DD", "a date YYYY-MM-DD"]}


def _spec_text(item: Item, *, many: bool = False) -> Spec:
    return {"check": "text", "many": many, "max_length": item.max_length,
            "expected": ["文本或文本列表", "text or a list of texts"] if many else ["文本", "text"],
            "describe": ["文件引用或其列表" if many else "文本", "text"]}


def _check_choice(iid: str, spec: Spec) -> Check:
    keys = {(type(v) is bool, v) for v in spec["values"]}
    expected, allowed = Bi(*spec["expected"]), Bi(*spec["allowed"])

    def check_choice(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if _hashable(value) and (type(value) is bool, value) in keys:
            return value, None
        if isinstance(value, list | dict):
            return None, answer_error(iid, "wrong_type", got=_type_name(value), expected=expected)
        return None, answer_error(iid, "not_an_option", value=scalar_text(value)
                                  if _hashable(value) else value, allowed=allowed)
    return check_choice


def _check_multi(iid: str, spec: Spec) -> Check:
    keys = {(type(v) is bool, v) for v in spec["values"]}
    expected, allowed = Bi(*spec["expected"]), Bi(*spec["allowed"])

    def check_multi(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if not isinstance(value, list | tuple):
            return None, answer_error(iid, "wrong_type", got=_type_name(value), expected=expected)
        bad = [v for v in value if not _hashable(v) or (type(v) is bool, v) not in keys]
        if bad:
            return None, answer_error(iid, "not_options", value=bad, allowed=allowed)
        if len(set(value)) != len(value):
            return None, answer_error(iid, "duplicate_option", value=list(value))
        return list(value), None
    return check_multi


def _check_boolean(iid: str, spec: Spec) -> Check:
    expected = Bi(*spec["expected"])

    def check_bool(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if isinstance(value, bool):
            return value, None
        return None, answer_error(iid, "wrong_type", got=_type_name(value), expected=expected)
    return check_bool


def _check_number(iid: str, spec: Spec) -> Check:
    integral, lo, hi, step = spec["integral"], spec["min"], spec["max"], spec["step"]
    expected = Bi(*spec["expected"])

    def check_number(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if not _is_number(value) or (integral and not float(value).is_integer()):
            return None, answer_error(iid, "wrong_type", got=_type_name(value) if not
                                      _is_number(value) else fmt(value), expected=expected)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return None, answer_error(
                iid, "out_of_range", value=fmt(value),
                minimum=fmt(lo) if lo is not None else "-∞",
                maximum=fmt(hi) if hi is not None else "∞")
        if step and abs(value / step - round(value / step)) > 1e-9:
            return None, answer_error(iid, "not_multiple", value=fmt(value), step=fmt(step))
        return (int(value) if integral else value), None
    return check_number


def _check_date(iid: str, spec: Spec) -> Check:
    expected = Bi(*spec["expected"])

    def check_date(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if not isinstance(value, str):
            return None, answer_error(iid, "wrong_type", got=_type_name(value), expected=expected)
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            return None, answer_error(iid, "bad_date", value=value)
        return value, None
    return check_date


def _check_text(iid: str, spec: Spec) -> Check:
    many, limit, expected = spec["many"], spec["max_length"], Bi(*spec["expected"])

    def check_text(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if many and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value, None
        if not isinstance(value, str):
            return None, answer_error(iid, "wrong_type", got=_type_name(value), expected=expected)
        if limit is not None and len(value) > limit:
            return None, answer_error(iid, "too_long", length=len(value), maximum=limit)
        return value, None
    return check_text


CHECKS: dict[str, Callable[[str, Spec], Check]] = {
    "choice": _check_choice, "multi": _check_multi, "boolean": _check_boolean,
    "number": _check_number, "date": _check_date, "text": _check_text,
}
"""A check spec's kind → the checker built from it (the browser's engine reads the same specs)."""


Scorer = Callable[[Any], float | int | None]


def _score_options(item: Item) -> Scorer:
    weight = item.weight
    table = {(type(o.value) is bool, o.value): o.points for o in item.options}
    if weight == 1:
        return lambda v: table[(type(v) is bool, v)]
    return lambda v: (table[(type(v) is bool, v)] or 0) * weight


def _score_multi(item: Item) -> Scorer:
    weight = item.weight
    points = {o.value: (o.points or 0) for o in item.options}
    return lambda v: sum(points[x] for x in v) * weight if weight != 1 else sum(points[x] for x in v)


def _score_deduction(item: Item) -> Scorer:
    weight, full, per = item.weight, float(item.points or 0), float(item.per or 0)
    return lambda v: max(full - v * per, 0.0) * weight


def _score_value(item: Item) -> Scorer:
    """The answer is the score (section scores, numbers) unless the item lists options."""
    if item.options:
        return _score_options(item)
    weight = item.weight
    return lambda v: v * weight if weight != 1 else v


def _options_max(item: Item) -> float:
    return float(max((o.points or 0) for o in item.options)) if item.options else float(item.max or 0)


def _multi_max(item: Item) -> float:
    return float(item.max) if item.max is not None else float(sum(max(o.points or 0, 0) for o in item.options))


def _options_scored(item: Item) -> bool:
    return bool(item.options) and any(o.points is not None for o in item.options)


@dataclass(frozen=True)
class ScoringKind:
    """The scoring side of one item type: how its answer is checked (a spec, as data), how it
    scores, the most it can score (before weighting), and whether it scores when the definition
    does not say."""

    spec: Callable[[Item], Spec]
    score: Callable[[Item], Scorer] = _score_value
    maximum: Callable[[Item], float] = _options_max
    scored: Callable[[Item], bool] = lambda item: False


_TEXT = ScoringKind(_spec_text)
_FILES = ScoringKind(partial(_spec_text, many=True))

# Adding an item type: one entry here and one ItemKind in forms/items.py.
ITEM_TYPES: dict[str, ScoringKind] = {
    "single_choice": ScoringKind(_spec_choice, _score_value, _options_max, _options_scored),
    "multiple_choice": ScoringKind(_spec_multi, _score_multi, _multi_max, _options_scored),
    "boolean": ScoringKind(_spec_boolean, _score_value, _options_max, _options_scored),
    "integer": ScoringKind(partial(_spec_number, integral=True)),
    "count": ScoringKind(partial(_spec_number, integral=True, floor=0)),
    "deduction": ScoringKind(partial(_spec_number, integral=True, floor=0), _score_deduction,
                             lambda item: float(item.points or 0), lambda item: True),
    "decimal": ScoringKind(partial(_spec_number, integral=False)),
    "section_score": ScoringKind(partial(_spec_number, integral=False, floor=0), _score_value,
                                 _options_max, lambda item: True),
    "date": ScoringKind(_spec_date),
    "text": _TEXT,
    "signature": _TEXT,
    "photo": _FILES,
    "evidence": _FILES,
}


def check_spec(item: Item) -> Spec:
    """How an item's answers are checked, as plain data: the kind of check, its limits and the
    texts of its messages (for the checker below and for the browser's engine)."""
    return ITEM_TYPES[item.type].spec(item)


def _make_check(item: Item) -> Checker:
    """The value checker of an item, by its type: (check, allowed in Chinese, in English)."""
    spec = check_spec(item)
    describe_zh, describe_en = spec["describe"]
    return CHECKS[spec["check"]](item.id, spec), describe_zh, describe_en


def _make_score(item: Item) -> Scorer | None:
    """The scorer of a scored item (None when it does not score)."""
    return ITEM_TYPES[item.type].score(item) if item.is_scored else None


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _is_identity(ip: ItemPlan) -> bool:
    """Whether an item's score is its answer itself (integer options scoring their value).

    Skip logic may sit on such an item: a hidden item leaves the values (and is counted
    not applicable), so the getter below misses it and the item loop runs."""
    item = ip.item
    return (item.type == "single_choice" and bool(item.options) and item.weight == 1
            and ip.calculate is None
            and not item.not_applicable_allowed and all(
                type(o.value) is int and type(o.points) is int and o.points == o.value
                for o in item.options))


def _identity_getter(definition: Definition, plans: list[ItemPlan],
                     scorers: list[tuple[ItemPlan, str, Any]]
                     ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]] | None:
    """For an assessment section whose items all score their answer (GB/T 42195, Barthel):
    a getter of every item's value at once; KeyError when one is missing (then the item loop
    runs). Sections with anything else (not-applicable, calculations, findings) return None."""
    if definition.kind != "assessment" or not scorers or len(scorers) != len(plans):
        return None
    if not all(_is_identity(p) for p in plans):
        return None
    getter = operator.itemgetter(*(iid for _, iid, _ in scorers))
    if len(scorers) == 1:
        return lambda values: (getter(values),)
    return getter
