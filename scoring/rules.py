"""Rules: registered, composable strategies that turn scores into levels and grades.

Each rule type is a frozen model plus a `compile` function returning a step that mutates the
per-call `State`. New rule types register with `@register(Model)`; definitions name them by
`type`. Fields may hold `{policy: NAME}` to take their value from a named pack policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from .definitions import Model, RuleBase, Scalar, Text
from .errors import ExpressionError, definition_error
from .expressions import Expression, parse_expression

if TYPE_CHECKING:
    from .definitions import Definition

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


@dataclass
class Context:
    """Compile-time context: the definition, known names and the error collector."""

    definition: Definition
    source: str
    names: set[str]
    errors: list[dict[str, Any]]
    where: str = ""

    def expr(self, text: str, fld: str, *, item: str | None = None) -> Expression:
        """Parse an expression, recording errors (a never-true expression is returned then)."""
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


# --- bands ------------------------------------------------------------------------------


class Band(Model):
    """A score range (closed min..max, or threshold: min and above) mapped to a code."""

    code: int
    min: float | None = None
    max: float | None = None
    section_floor: float | None = None


class BandsRule(RuleBase):
    """Map a score to a level by ranges; gaps and overlaps refused unless declared."""

    type: Literal["bands"]
    source: str = "total"
    target: str = "level"
    section: str | None = None
    scale: str | None = None
    bands: tuple[Band, ...]
    step: float = 1.0
    allow_gaps: bool = False
    allow_overlaps: bool = False


@register("bands", BandsRule)
def compile_bands(rule: BandsRule, ctx: Context) -> Step:
    """Compile a bands rule (closed ranges or 'min and above' thresholds, optional floors)."""
    source = ctx.expr(rule.source, "source")
    for i, band in enumerate(rule.bands):
        ctx.level_code(band.code, f"bands[{i}].code", rule.scale)
    closed = all(b.max is not None for b in rule.bands)
    if closed:
        ordered = sorted(rule.bands, key=lambda b: (b.min or 0))
        for low, high in zip(ordered, ordered[1:], strict=False):
            lo_max, hi_min = float(low.max or 0), float(high.min or 0)
            if hi_min <= lo_max and not rule.allow_overlaps:
                ctx.error("band_overlap", "bands", low=fmt(hi_min), high=fmt(lo_max))
            elif hi_min - lo_max > rule.step + 1e-9 and not rule.allow_gaps:
                ctx.error("band_gap", "bands", low=fmt(lo_max), high=fmt(hi_min))
    elif any(b.max is not None for b in rule.bands) or any(b.min is None for b in rule.bands):
        ctx.error("rule", "bands", detail="give every band min and max, or only min (threshold)")
        ordered = list(rule.bands)
    else:
        ordered = sorted(rule.bands, key=lambda b: -(b.min or 0))
        mins = [b.min for b in ordered]
        if len(set(mins)) != len(mins) and not rule.allow_overlaps:
            ctx.error("band_overlap", "bands", low=mins[0], high=mins[-1])
    has_floors = any(b.section_floor is not None for b in rule.bands)
    source_text = rule.source
    closed_bands = [(float(b.min or 0), float(b.max or 0), b.code) for b in rule.bands]
    threshold_bands = [(float(b.min or 0), b.code, b.section_floor) for b in ordered] if not closed \
        else []
    eps = 1e-9
    source_fn = source.compiled
    from_total = source_text == "total"
    target, section, scale = rule.target, rule.section, rule.scale
    name_zh, name_en = _source_name(source_text, ctx.definition)
    # the range shown for a code: the first closed band with that code
    ranges: dict[int, str] = {}
    for lo, hi, c in closed_bands:
        ranges.setdefault(c, f"{fmt(lo)}–{fmt(hi)}")
    # Closed bands with whole-number edges: every whole score that falls in exactly one band is
    # looked up directly, with its explanation rendered once here (the same text as below).
    by_int: dict[int, tuple[int, str, str]] = {}
    if closed and closed_bands and all(
        lo.is_integer() and hi.is_integer() for lo, hi, _ in closed_bands
    ):
        first = int(min(lo for lo, _, _ in closed_bands))
        last = int(max(hi for _, hi, _ in closed_bands))
        if last - first <= 2000:
            for n in range(first, last + 1):
                hits = [c for lo, hi, c in closed_bands if lo - eps <= n <= hi + eps]
                if len(hits) == 1:
                    c = hits[0]
                    lvl_zh, lvl_en = level_names(ctx.definition, c, scale)
                    by_int[n] = (c, f"{name_zh} {n}（{ranges[c]}）→ {lvl_zh}",
                                 f"{name_en} {n} ({ranges[c]}) → {lvl_en}")

    def apply(state: State) -> None:
        value = state.total if from_total else source_fn(state.values, state.facts)
        if type(value) is int:
            hit = by_int.get(value)
            if hit is not None:
                _store(state, target, hit[0], section, scale)
                state.steps.append((hit[1], hit[2]))
                return
        if value is None:
            state.warn(f"{name_zh}缺失，无法定级", f"{name_en} missing; no level")
            _store(state, target, None, section, scale)
            return
        code: int | None = None
        if closed:
            matches = [c for lo, hi, c in closed_bands if lo - eps <= value <= hi + eps]
            if not matches:
                # a value between two declared bands (only possible with allow_gaps or decimals)
                state.warn(f"{name_zh} {fmt(value)} 不在任何分数段内",
                           f"{name_en} {fmt(value)} is in no band")
            else:
                code = max(matches) if len(matches) > 1 else matches[0]
                if len(matches) > 1:
                    state.warn(f"{name_zh} {fmt(value)} 落在多个重叠分数段，取最高代码 {code}",
                               f"{name_en} {fmt(value)} is in overlapping bands; took code {code}")
            rng = ranges.get(code, "—") if code is not None else "—"
        else:
            rng = "—"
            for lo, c, floor in threshold_bands:
                if value + eps < lo:
                    continue
                if floor is not None and has_floors:
                    failed = [
                        (sid, sec) for sid, sec in state.sections.items()
                        if sec.get("max") and sec["score"] + eps < floor * sec["max"]
                    ]
                    if failed:
                        lvl_zh, lvl_en = state.level_name(c, rule.scale)
                        for sid, sec in failed:
                            state.floors_failed.append({
                                "level": c, "section": sid, "score": sec["score"],
                                "required": _num(floor * sec["max"]), "max": sec["max"],
                            })
                        parts_zh = "、".join(
                            f"{state.definition.section(s).title.zh} {fmt(sec['score'])}/"
                            f"{fmt(sec['max'])}" for s, sec in failed)
                        parts_en = ", ".join(
                            f"{state.definition.section(s).title.get('en')} "
                            f"{fmt(sec['score'])}/{fmt(sec['max'])}" for s, sec in failed)
                        state.explain(
                            f"{name_zh} {fmt(value)} 达到{lvl_zh}（≥{fmt(lo)}），但{parts_zh} 低于"
                            f"该级分项最低要求 {fmt(floor * 100)}%，不能评为{lvl_zh}",
                            f"{name_en} {fmt(value)} reaches {lvl_en} (≥{fmt(lo)}) but {parts_en} "
                            f"is below that level's section floor of {fmt(floor * 100)}%",
                        )
                        continue
                code, rng = c, f"≥{fmt(lo)}"
                break
            if code is None:
                state.warn(f"{name_zh} {fmt(value)} 低于最低分数段", f"{name_en} {fmt(value)} "
                           "is below the lowest band")
        _store(state, rule.target, code, rule.section, rule.scale)
        lvl_zh, lvl_en = state.level_name(code, rule.scale)
        state.explain(f"{name_zh} {fmt(value)}（{rng}）→ {lvl_zh}",
                      f"{name_en} {fmt(value)} ({rng}) → {lvl_en}")

    return apply


# --- decision table ---------------------------------------------------------------------


class Row(Model):
    """One row of a decision table: a condition and the result code."""

    when: str
    result: int


class DecisionTableRule(RuleBase):
    """Rows of conditions → code, with declared precedence and a declared default for gaps."""

    type: Literal["decision_table"]
    target: str = "level"
    section: str | None = None
    scale: str | None = None
    precedence: Literal["first_match", "highest", "lowest"] | PolicyRef = "first_match"
    rows: tuple[Row, ...]
    default: int | PolicyRef | None = None
    fallback: str | PolicySwitch | None = None
    warn_on_conflict: bool = True


@register("decision_table", DecisionTableRule)
def compile_decision_table(rule: DecisionTableRule, ctx: Context) -> Step:
    """Compile a decision table (first / highest / lowest match) with a gap default."""
    conds = [(ctx.expr(r.when, f"rows[{i}].when").compiled, r.result)
             for i, r in enumerate(rule.rows)]
    for i, r in enumerate(rule.rows):
        ctx.level_code(r.result, f"rows[{i}].result", rule.scale)
    precedence, prec_policy = ctx.policy(rule.precedence, "precedence")
    default, default_policy = ctx.policy(rule.default, "default")
    if default is not None:
        default = int(default)
    fallback: Any = None
    fallback_policy: str | None = None
    if isinstance(rule.fallback, PolicySwitch):
        fallback_policy = rule.fallback.policy
        chosen, _ = ctx.policy(PolicyRef(policy=fallback_policy), "fallback")
        if chosen is not None and str(chosen) not in rule.fallback.cases:
            ctx.error("bad_policy_value", "fallback", policy=fallback_policy, value=chosen,
                      choices=sorted(rule.fallback.cases))
        else:
            fallback = ctx.expr(rule.fallback.cases[str(chosen)], "fallback").compiled
    elif rule.fallback is not None:
        fallback = ctx.expr(rule.fallback, "fallback").compiled
    label = rule.label or Text(zh=rule.target, en=rule.target)

    def apply(state: State) -> None:
        v, f = state.values, state.facts
        matches = [code for cond, code in conds if cond(v, f)]
        if not matches:
            code = default
            note_zh = note_en = ""
            if fallback is not None:
                value = fallback(v, f)
                code = int(value) if value is not None else default
            policy = fallback_policy or default_policy
            if policy:
                note_zh, note_en = state.use_policy(policy)
                note_zh, note_en = "；" + note_zh, "; " + note_en
            d_zh, d_en = state.level_name(code, rule.scale)
            state.warn(f"{label.zh}：组合未被任何规则覆盖，取默认 {d_zh}{note_zh}",
                       f"{label.get('en')}: no rule matches this combination; default "
                       f"{d_en}{note_en}")
        else:
            if precedence == "highest":
                code = max(matches)
            elif precedence == "lowest":
                code = min(matches)
            else:
                code = matches[0]
            if len(set(matches)) > 1 and rule.warn_on_conflict:
                note_zh, note_en = (state.use_policy(prec_policy) if prec_policy
                                    else (f"按声明的优先规则 {precedence}",
                                          f"by the declared precedence {precedence}"))
                state.warn(
                    f"{label.zh}：同时符合多条规则（{sorted(set(matches))}），{note_zh}取 "
                    f"{state.level_name(code, rule.scale)[0]}",
                    f"{label.get('en')}: several rules match ({sorted(set(matches))}); "
                    f"{note_en}: {state.level_name(code, rule.scale)[1]}",
                )
        _store(state, rule.target, code, rule.section, rule.scale)
        lvl_zh, lvl_en = state.level_name(code, rule.scale)
        state.explain(f"{label.zh} → {lvl_zh}", f"{label.get('en')} → {lvl_en}")

    return apply


# --- matrix -----------------------------------------------------------------------------


class MatrixRule(RuleBase):
    """Two-way lookup: row value × column value → code."""

    type: Literal["matrix"]
    row: str
    column: str
    table: dict[str, dict[str, int]]
    target: str = "level"
    scale: str | None = None
    default: int | None = None


@register("matrix", MatrixRule)
def compile_matrix(rule: MatrixRule, ctx: Context) -> Step:
    """Compile a matrix lookup; keys are compared as text."""
    row, col = ctx.expr(rule.row, "row"), ctx.expr(rule.column, "column")
    label = rule.label or Text(zh="矩阵", en="matrix")

    def apply(state: State) -> None:
        r, c = row.evaluate(state.values, state.facts), col.evaluate(state.values, state.facts)
        code = rule.table.get(fmt(r), {}).get(fmt(c), rule.default)
        if code is None or fmt(c) not in rule.table.get(fmt(r), {}):
            state.warn(f"{label.zh}：{fmt(r)} × {fmt(c)} 不在表中", f"{label.get('en')}: "
                       f"{fmt(r)} × {fmt(c)} is not in the table")
        _store(state, rule.target, code, None, rule.scale)
        lvl_zh, lvl_en = state.level_name(code, rule.scale)
        state.explain(f"{label.zh}：{fmt(r)} × {fmt(c)} → {lvl_zh}",
                      f"{label.get('en')}: {fmt(r)} × {fmt(c)} → {lvl_en}")

    return apply


# --- adjustments ------------------------------------------------------------------------


class Adjustment(Model):
    """Raise the level by `by`, or set it to at least `to`, when a condition holds."""

    id: str
    label: Text
    when: str | PolicySwitch
    effect: Literal["raise", "set"] = "raise"
    by: int = 1
    to: int | PolicyRef | None = None
    note: Text | None = None


class AdjustmentsRule(RuleBase):
    """Level changes after the preliminary level, with a stacking policy and a cap."""

    type: Literal["adjustments"]
    adjustments: tuple[Adjustment, ...]
    stacking: Literal["raise_once", "cumulative"] | PolicyRef = "cumulative"
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class _CompiledAdjustment:
    """One adjustment with its condition and every text it may add, rendered at load."""

    adj: Adjustment
    cond: Any
    others: tuple[Any, ...]
    switch_policy: str | None
    to: int | None
    to_policy: str | None
    record: dict[str, Any]
    text: tuple[str, str]
    decided: tuple[str, str]
    not_decided: tuple[str, str]
    kept: tuple[str, str] = ("", "")


def _compile_adjustment(definition: Definition, adj: Adjustment, cond: Any,
                        others: tuple[Any, ...], switch_policy: str | None, to: int | None,
                        to_policy: str | None) -> _CompiledAdjustment:
    label_zh, label_en = adj.label.zh, adj.label.get("en")
    note_zh = f"（{adj.note.zh}）" if adj.note else ""
    note_en = f" ({adj.note.get('en')})" if adj.note else ""
    record = {"id": adj.id, "label": label_zh, "label_en": label_en, "effect": adj.effect,
              **({"by": adj.by} if adj.effect == "raise" else {"to": to})}
    if adj.effect == "raise":
        text = (f"{label_zh} → 在原等级上提高{adj.by}级{note_zh}",
                f"{label_en} → raise {adj.by} level(s){note_en}")
    elif to is not None:
        if to_policy and to_policy in definition.policies:
            p_zh, p_en = policy_mention(definition, to_policy)
            note_zh += f"；{p_zh}"
            note_en += f"; {p_en}"
        to_zh, to_en = level_names(definition, to)
        text = (f"{label_zh} → 直接评定为{to_zh}{note_zh}", f"{label_en} → set to {to_en}{note_en}")
        kept = (f"{label_zh} → 至少为{to_zh}{note_zh}；", f"{label_en} → at least {to_en}{note_en}; ")
    else:
        text = ("", "")
    if adj.effect == "raise" or to is None:
        kept = ("", "")
    decided = not_decided = ("", "")
    if switch_policy is not None and switch_policy in definition.policies:
        p_zh, p_en = policy_mention(definition, switch_policy)
        decided = (f"{label_zh}：{p_zh}，适用", f"{label_en}: {p_en}, applies")
        not_decided = (f"{label_zh}：{p_zh}，不适用", f"{label_en}: {p_en}, does not apply")
    return _CompiledAdjustment(adj, cond, others, switch_policy, to, to_policy, record, text,
                               decided, not_decided, kept)


@register("adjustments", AdjustmentsRule)
def compile_adjustments(rule: AdjustmentsRule, ctx: Context) -> Step:
    """Compile adjustments: raises (stacked per policy), 'set at least', then the cap."""
    stacking, stacking_policy = ctx.policy(rule.stacking, "stacking")
    ctx.level_code(rule.cap, "cap")
    compiled: list[_CompiledAdjustment] = []
    for i, adj in enumerate(rule.adjustments):
        where = f"adjustments[{i}]"
        alternatives: dict[str, Any] = {}
        switch_policy: str | None = None
        if isinstance(adj.when, PolicySwitch):
            switch_policy = adj.when.policy
            chosen, _ = ctx.policy(PolicyRef(policy=adj.when.policy), f"{where}.when")
            for case, text in adj.when.cases.items():
                alternatives[case] = ctx.expr(text, f"{where}.when.cases.{case}").compiled
            if chosen is not None and str(chosen) not in alternatives:
                ctx.error("bad_policy_value", f"{where}.when", policy=adj.when.policy,
                          value=chosen, choices=sorted(alternatives))
            cond = alternatives.get(str(chosen), lambda v, f: False)
        else:
            cond = ctx.expr(adj.when, f"{where}.when").compiled
        to, to_policy = ctx.policy(adj.to, f"{where}.to")
        if adj.effect == "set":
            if to is None:
                ctx.error("rule", f"{where}.to", detail="effect 'set' needs 'to'")
            else:
                ctx.level_code(int(to), f"{where}.to")
        # the other choices of the policy: if one of them gives a different outcome, the
        # policy decides this adjustment and the explanation says so
        others = tuple(alt for alt in alternatives.values() if alt is not cond)
        to_code = int(to) if to is not None else None
        compiled.append(_compile_adjustment(ctx.definition, adj, cond, others, switch_policy,
                                            to_code, to_policy))
    cap = rule.cap

    def apply(state: State) -> None:
        v, f = state.values, state.facts
        base = state.level
        state.adjusted = True
        if base is None:
            return
        fired = []
        for a in compiled:
            hit = bool(a.cond(v, f))
            # the policy decides whether this adjustment applies: say so
            if a.switch_policy is not None and a.others and any(
                bool(alt(v, f)) is not hit for alt in a.others
            ):
                state.use_policy(a.switch_policy)
                state.steps.append(a.decided if hit else a.not_decided)
            if hit:
                fired.append(a)
        if not fired:
            return
        raises = [a for a in fired if a.adj.effect == "raise"]
        level = base
        if raises:
            if stacking == "raise_once":
                step = max(a.adj.by for a in raises)
            else:
                step = sum(a.adj.by for a in raises)
            level = base + step
            for a in raises:
                state.steps.append(a.text)
            if len(raises) > 1 and stacking_policy:
                p_zh, p_en = state.use_policy(stacking_policy)
                how_zh = "只提高一次" if stacking == "raise_once" else "逐项累加"
                how_en = "raised once" if stacking == "raise_once" else "raises added up"
                state.explain(f"{len(raises)} 项提高条件同时满足：{p_zh}，{how_zh}",
                              f"{len(raises)} raise conditions hold: {p_en}, {how_en}")
            base_zh, base_en = state.level_name(base)
            shown = min(level, cap) if cap is not None else level
            new_zh, new_en = state.level_name(shown)
            if shown == base:  # already at the top: never "X → X"
                state.explain(f"{base_zh} 已是最高等级，不再提高", f"{base_en} is already the highest level")
                level = base
            else:
                state.explain(f"{base_zh} → {new_zh}", f"{base_en} → {new_en}")
        for a in fired:
            state.adjustments.append(dict(a.record))
            if a.adj.effect == "set" and a.to is not None:
                if a.to_policy:
                    state.use_policy(a.to_policy)
                if level >= a.to:  # the level is already there or beyond: say it stays
                    cur_zh, cur_en = state.level_name(level)
                    state.steps.append((f"{a.kept[0]}当前已为{cur_zh}，等级不变",
                                        f"{a.kept[1]}already {cur_en}, level unchanged"))
                else:
                    state.steps.append(a.text)
                    level = a.to
        if cap is not None and level > cap:
            cap_zh, cap_en = state.level_name(cap)
            state.explain(f"调整后超过上限，按上限 {cap_zh}", f"capped at {cap_en}")
            level = cap
        state.set_level(level)

    return apply


# --- caps, floors, vetoes, unqualified ---------------------------------------------------


class CapRule(RuleBase):
    """At most level `max` when a condition holds (e.g. first application ≤ level 3)."""

    type: Literal["cap"]
    when: str
    max: int | PolicyRef
    enabled: bool | PolicyRef = True


@register("cap", CapRule)
def compile_cap(rule: CapRule, ctx: Context) -> Step:
    """Compile a cap; it may be switched on or off by a policy."""
    cond = ctx.expr(rule.when, "when").compiled
    enabled, policy = ctx.policy(rule.enabled, "enabled")
    chosen, max_policy = ctx.policy(rule.max, "max")
    if chosen is not None and (isinstance(chosen, bool) or not isinstance(chosen, int)):
        ctx.error("rule", "max", detail="the cap must be a level code (a whole number)")
        chosen = None
    cap: int | None = chosen
    ctx.level_code(cap, "max")
    label = rule.label or Text(zh="等级上限", en="level cap")

    def apply(state: State) -> None:
        if state.level is None or not cond(state.values, state.facts):
            return
        if not enabled:
            if policy:
                p_zh, p_en = state.use_policy(policy)
                state.explain(f"{label.zh}：条件成立，但{p_zh}，未启用",
                              f"{label.get('en')}: condition holds but {p_en}: not applied")
            return
        if cap is not None and state.level > cap:
            old_zh, old_en = state.level_name(state.level)
            new_zh, new_en = state.level_name(cap)
            named = [state.use_policy(p) for p in (policy, max_policy) if p]
            p_zh = "；".join(n[0] for n in named)
            p_en = "; ".join(n[1] for n in named)
            state.explain(f"{label.zh}：{old_zh} → {new_zh} {p_zh}".rstrip(),
                          f"{label.get('en')}: {old_en} → {new_en} {p_en}".rstrip())
            state.adjustments.append({"id": rule.id or "cap", "label": label.zh,
                                      "label_en": label.get("en"), "effect": "cap",
                                      "to": cap})
            state.adjusted = True
            state.set_level(cap)

    return apply


class Floor(Model):
    """A per-section minimum, in points or as a fraction of the section maximum."""

    section: str
    min: float | None = None
    min_fraction: float | None = None


class FloorsRule(RuleBase):
    """Per-section floors; failing one caps the level (or sets it)."""

    type: Literal["floors"]
    floors: tuple[Floor, ...]
    cap: int


@register("floors", FloorsRule)
def compile_floors(rule: FloorsRule, ctx: Context) -> Step:
    """Compile per-section floors."""
    for i, fl in enumerate(rule.floors):
        if fl.section not in {s.id for s in ctx.definition.sections}:
            ctx.error("unknown_section", f"floors[{i}].section", section=fl.section)
    ctx.level_code(rule.cap, "cap")

    def apply(state: State) -> None:
        failed = False
        for fl in rule.floors:
            sec = state.sections.get(fl.section)
            if sec is None:
                continue
            need = fl.min if fl.min is not None else (fl.min_fraction or 0) * (sec["max"] or 0)
            if sec["score"] + 1e-9 < need:
                failed = True
                state.floors_failed.append({"level": rule.cap, "section": fl.section,
                                            "score": sec["score"], "required": need,
                                            "max": sec["max"]})
                title = state.definition.section(fl.section).title
                state.explain(f"{title.zh} {fmt(sec['score'])} 低于最低要求 {fmt(need)}",
                              f"{title.get('en')} {fmt(sec['score'])} is below the floor "
                              f"{fmt(need)}")
        if failed and state.level is not None and state.level > rule.cap:
            cap_zh, cap_en = state.level_name(rule.cap)
            state.explain(f"分项未达最低要求 → 至多 {cap_zh}", f"section floor failed → at most "
                          f"{cap_en}")
            state.set_level(rule.cap)

    return apply


class VetoCode(Model):
    """A veto (一票否决) code with its label."""

    code: str
    label: Text


class VetoRule(RuleBase):
    """Any listed code in `facts.veto` (or a failed veto item) sets the veto grade."""

    type: Literal["veto"]
    codes: tuple[VetoCode, ...]
    grade: int


@register("veto", VetoRule)
def compile_veto(rule: VetoRule, ctx: Context) -> Step:
    """Compile a veto rule; codes are checked against `facts.veto` when answers validate."""
    ctx.level_code(rule.grade, "grade")
    labels = {c.code: c.label for c in rule.codes}

    def apply(state: State) -> None:
        raw = state.facts.get("veto") or []
        for code in raw:
            label = labels[code]
            if not any(v["code"] == code for v in state.vetoes):
                state.vetoes.append({"code": code, "label": label.zh,
                                     "label_en": label.get("en")})
        if state.vetoes:
            state.veto_grade = rule.grade

    return apply


class UnqualifiedRule(RuleBase):
    """Below this score the facility is unqualified (不合格) and must rectify."""

    type: Literal["unqualified"]
    below: float
    source: str = "total"
    rectification_days: int | PolicyRef | None = None


@register("unqualified", UnqualifiedRule)
def compile_unqualified(rule: UnqualifiedRule, ctx: Context) -> Step:
    """Compile the unqualified threshold ('below' excludes the number itself).

    `rectification_days` (a number or `{policy: NAME}`) is the deadline stated when the result
    is unqualified; when it comes from a policy, the explanation names the policy.
    """
    source = ctx.expr(rule.source, "source").compiled
    days, days_policy = ctx.policy(rule.rectification_days, "rectification_days")
    if days is not None and (type(days) is not int or days <= 0):
        ctx.error("rule", "rectification_days", detail="a positive whole number of days")
        days = None
    if days:
        by_zh, by_en = policy_mention(ctx.definition, days_policy) if days_policy else ("", "")
        days_zh = f"，限 {days} 天内整改" + (f"；{by_zh}" if by_zh else "")
        days_en = f"; rectify within {days} days" + (f", {by_en}" if by_en else "")
    else:
        days_zh = days_en = ""
    below = rule.below

    def apply(state: State) -> None:
        value = source(state.values, state.facts)
        if value is None:
            return
        state.unqualified = value + 1e-9 < below
        if state.unqualified:
            if days and days_policy:
                state.use_policy(days_policy)
            state.explain(f"得分 {fmt(value)} 低于 {fmt(below)} → 不合格{days_zh}",
                          f"score {fmt(value)} is below {fmt(below)} → unqualified{days_en}")

    return apply


# --- relative (percentile) bands ----------------------------------------------------------


class Cut(Model):
    """Codes by share of the peer group: `upto` is the cumulative share (0..1]."""

    code: int
    upto: float


class RelativeBandsRule(RuleBase):
    """Grade by rank within a peer group (CMS style: top 10% five stars, bottom 20% one)."""

    type: Literal["relative_bands"]
    source: str = "total"
    peers: str = "facts.peer_scores"
    fallback: str | None = None
    min_peers: int = 5
    lower_is_better: bool = False
    cuts: tuple[Cut, ...]
    target: str = "level"
    scale: str | None = None


@register("relative_bands", RelativeBandsRule)
def compile_relative_bands(rule: RelativeBandsRule, ctx: Context) -> Step:
    """Compile relative bands: share of peers strictly better decides the cut."""
    source = ctx.expr(rule.source, "source").compiled
    peers = ctx.expr(rule.peers, "peers").compiled
    fallback = ctx.expr(rule.fallback, "fallback").compiled if rule.fallback else None
    cuts = sorted(rule.cuts, key=lambda c: c.upto)
    if not cuts or abs(cuts[-1].upto - 1.0) > 1e-9:
        ctx.error("rule", "cuts", detail="the last cut must reach upto: 1.0")
    for i, cut in enumerate(rule.cuts):
        ctx.level_code(cut.code, f"cuts[{i}].code", rule.scale)

    def apply(state: State) -> None:
        value = source(state.values, state.facts)
        group = list(peers(state.values, state.facts) or [])
        used = "同组"
        if len(group) < rule.min_peers and fallback is not None:
            group, used = list(fallback(state.values, state.facts) or []), "全国"
        if value is None or not group:
            state.warn("缺少同组比较数据，无法按相对分档定级", "no peer data for relative bands")
            _store(state, rule.target, None, None, rule.scale)
            return
        better = sum(1 for p in group if (p < value if rule.lower_is_better else p > value))
        share = better / len(group)
        code = next((c.code for c in cuts if share < c.upto - 1e-12), cuts[-1].code)
        _store(state, rule.target, code, None, rule.scale)
        lvl_zh, lvl_en = state.level_name(code, rule.scale)
        state.explain(
            f"{fmt(value)} 在{used} {len(group)} 个机构中优于 {fmt(round((1 - share) * 100, 1))}%"
            f"（排名前 {fmt(round(share * 100, 1))}% 之后）→ {lvl_zh}",
            f"{fmt(value)}: {fmt(round(share * 100, 1))}% of {len(group)} peers score better "
            f"→ {lvl_en}",
        )

    return apply


# --- consistency warnings ------------------------------------------------------------------


class WarningRule(RuleBase):
    """A consistency check: when the condition holds, the result carries this warning."""

    type: Literal["warning"]
    when: str
    message: Text


@register("warning", WarningRule)
def compile_warning(rule: WarningRule, ctx: Context) -> Step:
    """Compile a consistency warning (it never changes the level)."""
    cond = ctx.expr(rule.when, "when").compiled

    def apply(state: State) -> None:
        if cond(state.values, state.facts):
            state.warn(rule.message.zh, rule.message.get("en"))

    return apply


def known_rule_types() -> list[str]:
    """Names of every registered rule type."""
    return sorted(RULES)


def scalar_text(value: Scalar) -> str:
    """Render a scalar for messages (true/false in lower case, like YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt(value)
