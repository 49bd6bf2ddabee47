"""Definition schema: a questionnaire (assessment) or rating scheme as frozen pydantic models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

NA = "na"
"""The answer that marks an item not applicable (only where `not_applicable_allowed`)."""

ItemType = Literal[
    "single_choice",
    "multiple_choice",
    "integer",
    "decimal",
    "boolean",
    "date",
    "text",
    "count",
    "section_score",
    "deduction",
    "signature",
    "photo",
    "evidence",
]
Severity = Literal["critical", "major", "minor"]
Scalar = bool | int | float | str


class Model(BaseModel):
    """Base of every schema model: frozen and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(Model):
    """A bilingual label; a plain string in YAML is taken as the Chinese text."""

    zh: str
    en: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"zh": data} if isinstance(data, str) else data

    def get(self, lang: str = "zh") -> str:
        """Return the text in `lang`, falling back to Chinese."""
        return (self.en or self.zh) if lang == "en" else self.zh


class Option(Model):
    """One choice: the stored value, its score (defaults to a numeric value) and label."""

    value: Scalar
    score: float | int | None = None
    label: Text | None = None

    @property
    def points(self) -> float | int | None:
        """The score this option gives (explicit score, else a numeric value, else None)."""
        if self.score is not None:
            return self.score
        if isinstance(self.value, int | float) and not isinstance(self.value, bool):
            return self.value
        return None


class Item(Model):
    """One question or checklist line."""

    id: str
    type: ItemType
    title: Text
    hint: Text | None = None
    required: bool | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Text | None = None
    calculate: str | None = None
    not_applicable_allowed: bool = False
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    step: float | None = None
    max_length: int | None = None
    points: float | None = None
    per: float | None = None
    scored: bool | None = None
    weight: float = 1.0
    severity: Severity | None = None
    veto: str | None = None
    default: Any = None
    verification: str | None = None
    note: str | None = None

    @property
    def is_scored(self) -> bool:
        """Whether the item contributes to its section score (its type decides unless `scored`
        says; scoring/items.py ITEM_TYPES)."""
        from .items import ITEM_TYPES  # the registry builds checkers from items: imported late

        return self.scored if self.scored is not None else ITEM_TYPES[self.type].scored(self)

    @property
    def max_score(self) -> float:
        """The most this item can contribute, before weighting (by its type)."""
        from .items import ITEM_TYPES

        return ITEM_TYPES[self.type].maximum(self)


class Section(Model):
    """A domain (assessment) or section (rating) holding items; may be entered as a score."""

    id: str
    title: Text
    items: tuple[Item, ...] = ()
    max: float | None = None
    required: bool = False
    relevant: str | None = None
    weight: float = 1.0
    scored: bool = True
    direction: Literal["higher_is_better", "higher_is_worse"] = "higher_is_better"
    normalise_to: float | None = None


class Level(Model):
    """One step of a scale: code, label and, for ratings, stars or a medal."""

    code: int
    label: Text
    stars: int | None = None
    medal: str | None = None


class Policy(Model):
    """A named setting for a point the standard leaves open, with its default and choices."""

    value: Scalar
    choices: tuple[Scalar, ...] = ()
    title: Text | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _value_in_choices(self) -> Policy:
        if self.choices and self.value not in self.choices:
            raise ValueError(f"value {self.value!r} is not one of {list(self.choices)}")
        return self


class TotalSpec(Model):
    """How the total is formed from the section scores (a registered method)."""

    method: str = "sum"
    normalise_to: float | None = None


class RuleBase(Model):
    """Base of every rule; concrete rules are registered in `scoring.rules`."""

    type: str
    id: str | None = None
    label: Text | None = None


def _default_deadlines() -> dict[Severity, int]:
    return {"critical": 7, "major": 30, "minor": 60}


class Definition(Model):
    """A versioned instrument or rating scheme, validated and compiled at load time."""

    id: str
    version: str
    kind: Literal["assessment", "rating"]
    title: Text
    description: Text | None = None
    source: str | None = None
    confidence: str | None = None
    example: bool = False
    applies_to: str | None = None
    answer_encoding: str | None = None
    sections: tuple[Section, ...]
    levels: tuple[Level, ...] = ()
    scales: dict[str, tuple[Level, ...]] = Field(default_factory=dict)
    policies: dict[str, Policy] = Field(default_factory=dict)
    total: TotalSpec = TotalSpec()
    rules: tuple[RuleBase, ...] = ()
    validity_years: int | None = None
    deadline_days: dict[Severity, int] = Field(default_factory=_default_deadlines)
    default_severity: Severity = "major"
    notes: tuple[str, ...] = ()

    _plan: Any = PrivateAttr(default=None)
    _raw: Any = PrivateAttr(default=None)
    _source: str = PrivateAttr(default="<string>")
    _names: dict[Any, Any] = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("deadline_days", mode="after")
    @classmethod
    def _fill_deadlines(cls, value: dict[Severity, int]) -> dict[Severity, int]:
        return {**_default_deadlines(), **value}

    @field_validator("rules", mode="before")
    @classmethod
    def _build_rules(cls, value: Any) -> Any:
        from .rules import build_rule  # the registry lives with the strategies

        if isinstance(value, list | tuple):
            return tuple(build_rule(r) if isinstance(r, Mapping) else r for r in value)
        return value

    # --- lookups ---------------------------------------------------------------------

    @property
    def items(self) -> dict[str, Item]:
        """Every item by id, in definition order."""
        return {item.id: item for section in self.sections for item in section.items}

    def item(self, item_id: str) -> Item:
        """Return one item by id (KeyError if unknown)."""
        return self.items[item_id]

    def section(self, section_id: str) -> Section:
        """Return one section by id (KeyError if unknown)."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def section_of(self, item_id: str) -> Section:
        """Return the section holding an item."""
        for section in self.sections:
            if any(item.id == item_id for item in section.items):
                return section
        raise KeyError(item_id)

    def level(self, code: int, scale: str | None = None) -> Level | None:
        """Return a level of the main scale (or of a named scale) by code."""
        for level in self.scales.get(scale, ()) if scale else self.levels:
            if level.code == code:
                return level
        return None

    def policy(self, name: str) -> Scalar:
        """Return the value of a named policy setting."""
        return self.policies[name].value

    @property
    def source_name(self) -> str:
        """The file or source name the definition was loaded from."""
        return self._source

    @property
    def veto_codes(self) -> dict[str, Text]:
        """Veto codes accepted in `facts.veto`, with their labels."""
        codes: dict[str, Text] = {}
        for rule in self.rules:
            for veto in getattr(rule, "codes", ()):
                codes[veto.code] = veto.label
        return codes

    @property
    def unqualified_below(self) -> float | None:
        """The score below which a rated facility is unqualified, if the scheme defines it."""
        for rule in self.rules:
            if rule.type == "unqualified":
                return float(getattr(rule, "below"))  # noqa: B009
        return None

    @property
    def rectification_days(self) -> int | None:
        """Days an unqualified facility has to rectify, if defined (a number or a policy)."""
        for rule in self.rules:
            if rule.type == "unqualified":
                days = getattr(rule, "rectification_days", None)
                name = getattr(days, "policy", None)
                if isinstance(name, str):  # {policy: NAME}
                    days = self.policies[name].value if name in self.policies else None
                return int(days) if days is not None else None
        return None

    # --- skip logic for form builders ------------------------------------------------

    def relevant_items(
        self, answers: Mapping[str, Any], facts: Mapping[str, Any] | None = None
    ) -> set[str]:
        """Return the ids of items that are relevant (shown) given the current answers."""
        from .engine import relevant_items

        return relevant_items(self, answers, facts)

    def skip_logic(self) -> dict[str, dict[str, Any]]:
        """Expression sources and JSON ASTs per item, for a browser to re-implement skip logic."""
        from .engine import get_plan

        plan = get_plan(self)
        out: dict[str, dict[str, Any]] = {}
        for item_id, compiled in plan.item_expressions.items():
            out[item_id] = {
                kind: {"source": expr.source, "ast": expr.to_json()}
                for kind, expr in compiled.items()
            }
        return out

    def with_policies(self, **values: Scalar) -> Definition:
        """Return a copy with some policy settings changed (validated like the pack)."""
        from .engine import parse_definition

        raw = dict(self._raw or self.model_dump(mode="python", exclude_none=True))
        policies = {k: dict(v) for k, v in dict(raw.get("policies", {})).items()}
        for name, value in values.items():
            if name not in policies:
                raise KeyError(f"unknown policy {name}")
            policies[name]["value"] = value
        raw["policies"] = policies
        return parse_definition(raw, source=self._source)
