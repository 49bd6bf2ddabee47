"""The rule machinery: the per-call State, the compile Context, the registry and shared helpers.

Each rule type is a frozen model plus a `compile` function returning a step that mutates the
per-call `State`. New rule types register with `@register(Model)`; definitions name them by
`type`. Fields may hold `{policy: NAME}` to take their value from a named pack policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..definitions import Model, RuleBase, Scalar
from ..errors import ExpressionError, definition_error
from ..expressions import Expression, parse_expression, tokenize

if TYPE_CHECKING:
    from ..definitions import Definition

Step = Callable[["State"], None]


def _num(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 4)


def fmt(value: Any) -> str:
    """Format a number for explanations: 57, 27.5, 0.9."""
    if type(value) is int:
        return str(value)
    if type(value) is float and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


@dataclass(slots=True, init=False)
class State:
    """Working state of one scoring call; rules read and write it.

    The constructor is written out (same fields, same defaults as the dataclass would give)
    because it runs once per scoring call and the generated one with factories is slower.
    """

    definition: Definition
    values: dict[str, Any]
    facts: Mapping[str, Any]
    sections: dict[str, dict[str, Any]]
    total: float | None = None
    max_total: float = 0.0
    level: int | None = None
    preliminary: int | None = None
    adjusted: bool = False
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    vetoes: list[dict[str, Any]] = field(default_factory=list)
    veto_grade: int | None = None
    floors_failed: list[dict[str, Any]] = field(default_factory=list)
    unqualified: bool | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    policies_used: list[str] = field(default_factory=list)

    def __init__(
        self,
        definition: Definition,
        values: dict[str, Any],
        facts: Mapping[str, Any],
        sections: dict[str, dict[str, Any]],
        total: float | None = None,
        max_total: float = 0.0,
        level: int | None = None,
        preliminary: int | None = None,
        adjusted: bool = False,
        adjustments: list[dict[str, Any]] | None = None,
        vetoes: list[dict[str, Any]] | None = None,
        veto_grade: int | None = None,
        floors_failed: list[dict[str, Any]] | None = None,
        unqualified: bool | None = None,
        steps: list[tuple[str, str]] | None = None,
        warnings: list[tuple[str, str]] | None = None,
        findings: list[dict[str, Any]] | None = None,
        policies_used: list[str] | None = None,
    ) -> None:
        self.definition = definition
        self.values = values
        self.facts = facts
        self.sections = sections
        self.total = total
        self.max_total = max_total
        self.level = level
        self.preliminary = preliminary
        self.adjusted = adjusted
        self.adjustments = [] if adjustments is None else adjustments
        self.vetoes = [] if vetoes is None else vetoes
        self.veto_grade = veto_grade
        self.floors_failed = [] if floors_failed is None else floors_failed
        self.unqualified = unqualified
        self.steps = [] if steps is None else steps
        self.warnings = [] if warnings is None else warnings
        self.findings = [] if findings is None else findings
        self.policies_used = [] if policies_used is None else policies_used

    def explain(self, zh: str, en: str) -> None:
        """Append one explanation step."""
        self.steps.append((zh, en))

    def warn(self, zh: str, en: str) -> None:
        """Append one warning."""
        self.warnings.append((zh, en))

    def set_level(self, code: int | None) -> None:
        """Set the level; before any adjustment it is also the preliminary level."""
        self.level = code
        if not self.adjusted:
            self.preliminary = code
        self.values["level"] = code

    def level_name(self, code: int | None, scale: str | None = None) -> tuple[str, str]:
        """Return (zh, en) names of a level code."""
        if code is None:
            return "无等级", "no level"
        return level_names(self.definition, code, scale)

    def use_policy(self, name: str) -> tuple[str, str]:
        """Record that a policy decided something; return its (zh, en) mention."""
        if name not in self.policies_used:
            self.policies_used.append(name)
        return policy_mention(self.definition, name)


def policy_mention(definition: Definition, name: str) -> tuple[str, str]:
    """The (zh, en) words naming a policy setting and its value, cached per definition."""
    cache = definition.__pydantic_private__["_names"]  # type: ignore[index]
    key = ("policy", name)
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    policy = definition.policies[name]
    title = policy.title
    zh_title = f"（{title.zh}）" if title else ""
    en_title = f" ({title.get('en')})" if title else ""
    mention = (
        f"按政策设置 {name} = {policy.value}{zh_title}",
        f"by policy setting {name} = {policy.value}{en_title}",
    )
    cache[key] = mention
    return mention


def level_names(definition: Definition, code: int, scale: str | None = None) -> tuple[str, str]:
    """(zh, en) names of a level code of the main or a named scale, cached per definition."""
    cache = definition.__pydantic_private__["_names"]  # type: ignore[index]
    key = (scale, code)
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    level = definition.level(code, scale)
    names = (str(code), str(code)) if level is None else (level.label.zh, level.label.get("en"))
    cache[key] = names
    return names


class PolicyRef(Model):
    """`{policy: NAME}`: take the value from the pack's named policy."""

    policy: str


class PolicySwitch(Model):
    """A condition chosen by a policy: `{policy: NAME, cases: {VALUE: EXPR}}`."""

    policy: str
    cases: dict[str, str]


def _literal(value: Any) -> str:
    """An expression literal for a policy value."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class Context:
    """Compile-time context: the definition, known names and the error collector."""

    definition: Definition
    source: str
    names: set[str]
    errors: list[dict[str, Any]]
    where: str = ""

    def expr(self, text: str, fld: str, *, item: str | None = None) -> Expression:
        """Parse an expression, recording errors (a never-true expression is returned then).

        ``policy.NAME`` is replaced by the policy's current value before parsing, so skip logic
        can depend on a pack setting and a browser re-implementing it sees a plain constant.
        """
        text = self._with_policies(text, fld, item)
        try:
            expression = parse_expression(text, self_name=item)
        except ExpressionError as exc:
            self.errors.append(
                definition_error(
                    self.source, item, "expression", field=f"{self.where}{fld}",
                    position=exc.position, detail=exc.detail,
                )
            )
            return parse_expression("false")
        for name in sorted(expression.references):
            if not (name.startswith("facts.") or name in self.names):
                self.errors.append(
                    definition_error(
                        self.source, item, "unknown_reference", field=f"{self.where}{fld}",
                        position=text.find(name) + 1, name=name,
                    )
                )
        return expression

    def _with_policies(self, text: str, fld: str, item: str | None) -> str:
        if "policy." not in text:
            return text
        try:
            tokens = tokenize(text)
        except ExpressionError:
            return text  # the parse below reports it
        out, pos = [], 0
        for token in tokens:
            start = token.column - 1
            if token.kind != "name" or not token.text.startswith("policy.") \
                    or text[start:start + len(token.text)] != token.text:
                continue
            name = token.text.removeprefix("policy.")
            if name not in self.definition.policies:
                self.errors.append(definition_error(
                    self.source, item, "unknown_policy", field=f"{self.where}{fld}", policy=name))
                value: Any = None
            else:
                value = self.definition.policies[name].value
            out += [text[pos:start], _literal(value)]
            pos = start + len(token.text)
        return "".join(out) + text[pos:]

    def policy(self, value: Any, fld: str) -> tuple[Any, str | None]:
        """Resolve a possibly policy-driven value to (value, policy name or None)."""
        if isinstance(value, PolicyRef):
            if value.policy not in self.definition.policies:
                self.errors.append(
                    definition_error(
                        self.source, None, "unknown_policy", field=f"{self.where}{fld}",
                        policy=value.policy,
                    )
                )
                return None, None
            return self.definition.policies[value.policy].value, value.policy
        return value, None

    def level_code(self, code: int | None, fld: str, scale: str | None = None) -> None:
        """Check that a level code exists in the (named) scale."""
        if code is not None and self.definition.level(code, scale) is None:
            self.errors.append(
                definition_error(self.source, None, "unknown_level", field=f"{self.where}{fld}",
                                 level=code)
            )

    def error(self, code: str, fld: str, **params: Any) -> None:
        """Record a rule definition error."""
        self.errors.append(
            definition_error(self.source, None, code, field=f"{self.where}{fld}", **params)
        )


@dataclass(frozen=True)
class Strategy:
    """A registered rule type: its model, compile function and the variable it writes."""

    model: type[RuleBase]
    compile: Callable[[Any, Context], Step]


RULES: dict[str, Strategy] = {}


def register(
    name: str, model: type[RuleBase]
) -> Callable[[Callable[[Any, Context], Step]], Callable[[Any, Context], Step]]:
    """Register a rule strategy under `type: name`."""

    def decorate(fn: Callable[[Any, Context], Step]) -> Callable[[Any, Context], Step]:
        RULES[name] = Strategy(model, fn)
        return fn

    return decorate


def build_rule(data: Mapping[str, Any]) -> RuleBase:
    """Validate a raw rule mapping into its registered model."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in RULES:
        raise ValueError(f"unknown rule type {kind!r}; known: {', '.join(sorted(RULES))}")
    try:
        return RULES[kind].model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{kind} rule: {loc}: {first['msg']}") from None


def target_of(rule: RuleBase) -> str | None:
    """The variable name a rule writes, if any (for reference checking)."""
    target = getattr(rule, "target", None)
    return target if isinstance(target, str) and target != "level" else None


def _store(state: State, target: str, code: int | None, section: str | None,
           scale: str | None) -> None:
    if target == "level":
        state.set_level(code)
    else:
        state.values[target] = code
    if section is not None and section in state.sections:
        zh, en = state.level_name(code, scale)
        state.sections[section]["grade"] = {"code": code, "label": zh, "label_en": en}


def _source_name(source: str, definition: Definition) -> tuple[str, str]:
    if source == "total":
        return "总分", "total"
    if source == "percent":
        return "得分率", "percentage"
    if source.startswith("section."):
        sid = source[8:]
        try:
            title = definition.section(sid).title
            return title.zh, title.get("en")
        except KeyError:
            pass
    return source, source


def known_rule_types() -> list[str]:
    """Names of every registered rule type."""
    return sorted(RULES)


def scalar_text(value: Scalar) -> str:
    """Render a scalar for messages (true/false in lower case, like YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt(value)

