"""The compiled plan of a definition: what the hot path needs per item and section."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .definitions import Item, Section
from .expressions import Compiled, Expression
from .rules import Step

RESERVED = ("total", "max_total", "percent", "level")

Check = Callable[[Any], "tuple[Any, dict[str, Any] | None]"]


def num(value: Any) -> Any:
    """Normalise a number for output: integral floats become ints, others 4 decimals."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value == int(value) else round(value, 4)
    return value


# --- compiled plan ---------------------------------------------------------------------


@dataclass
class ItemPlan:
    """Everything the hot path needs about one item."""

    item: Item
    section: str
    check: Check
    allowed_zh: str
    allowed_en: str
    score: Callable[[Any], float | int | None] | None
    max: float
    required: bool
    relevant: Expression | None = None
    constraint: Expression | None = None
    calculate: Expression | None = None


@dataclass
class SectionPlan:
    """A section's items and how its score is formed."""

    section: Section
    items: list[ItemPlan]
    static_max: float
    scored: bool
    relevant: Expression | None = None
    scorers: list[tuple[ItemPlan, str, Any]] = field(default_factory=list)
    # precomputed for the hot path
    key: str = ""
    title_zh: str = ""
    title_en: str = ""
    max_text: str = ""
    max_out: Any = None
    sum_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
    # with sum_values: the explanation of each whole score from 0 to the maximum, rendered once
    sum_texts: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Plan:
    """A definition compiled once: item checks, scorers, expressions and rule steps."""

    items: dict[str, ItemPlan]
    sections: list[SectionPlan]
    steps: list[Step]
    item_expressions: dict[str, dict[str, Expression]]
    dynamic: bool
    calculated: list[ItemPlan] = field(default_factory=list)
    with_defaults: list[ItemPlan] = field(default_factory=list)
    veto_codes: frozenset[str] = frozenset()
    fast_choices: dict[str, frozenset[Any]] = field(default_factory=dict)
    fast_booleans: frozenset[str] = frozenset()  # yes/no items whose answer is a plain bool
    entered_sections: list[SectionPlan] = field(default_factory=list)  # required, no items
    has_relevance: bool = False
    level_dicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    required_ids: frozenset[str] = frozenset()
    has_constraints: bool = False
    default_ids: frozenset[str] = frozenset()
    # the skip logic to walk, in definition order: per section its condition (None: always on),
    # a guard that shows every walked item when it holds (None: none) and the items that may be
    # hidden with their own condition (None: only with the section)
    relevance: list[tuple[Compiled | None, Compiled | None,
                          list[tuple[str, Compiled | None]]]] = field(default_factory=list)

def _level_dict_uncached(level: Any) -> dict[str, Any]:
    code = level.code
    out: dict[str, Any] = {"code": code, "label": level.label.zh, "label_en": level.label.get("en")}
    if level.stars is not None:
        out["stars"] = level.stars
    if level.medal is not None:
        out["medal"] = level.medal
    return out
