"""The scoring rules as data for the browser's engine (see `scoring.compiled`).

One serialiser per rule type engine.js implements, registered in `CLIENT_RULES`. Policies are
resolved here exactly as the rule's own compile step resolves them, and every text the rule may
add to an explanation is rendered here by the same helpers, so the browser only fills in numbers.
Each serialiser lists under `reads` the expressions that can change the level (to tell which facts
a preview needs) and under `facts` the facts it reads directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .definitions import Definition, RuleBase
from .expressions import Expression
from .rules import Context, PolicyRef, PolicySwitch, policy_mention
from .rules.adjustments import AdjustmentsRule, _compile_adjustment
from .rules.bands import BandsRule
from .rules.core import _source_name, fmt
from .rules.limits import CapRule, FloorsRule, UnqualifiedRule, VetoRule, rectification_texts
from .rules.relative import RelativeBandsRule, WarningRule
from .rules.tables import DecisionTableRule, MatrixRule

Serialiser = Callable[[Any, Context], dict[str, Any]]
CLIENT_RULES: dict[str, Serialiser] = {}


def _client(name: str) -> Callable[[Serialiser], Serialiser]:
    def decorate(fn: Serialiser) -> Serialiser:
        CLIENT_RULES[name] = fn
        return fn
    return decorate


def rule_context(definition: Definition) -> Context:
    """A compile context for re-reading the rules' expressions (the definition is valid already,
    so the references it would check are not collected)."""
    return Context(definition, definition.source_name, _Everything(), [])


class _Everything(set[str]):
    def __contains__(self, name: object) -> bool:
        return True


def _ast(ctx: Context, text: str, fld: str) -> Any:
    expression: Expression = ctx.expr(text, fld)
    return expression.to_json()


def _mention(ctx: Context, policy: str | None) -> list[str] | None:
    if not policy or policy not in ctx.definition.policies:
        return None
    return list(policy_mention(ctx.definition, policy))


def _label(rule: RuleBase, zh: str, en: str) -> list[str]:
    label = rule.label
    return [label.zh, label.get("en")] if label is not None else [zh, en]


@_client("bands")
def _bands(rule: BandsRule, ctx: Context) -> dict[str, Any]:
    closed = all(b.max is not None for b in rule.bands)
    if closed:
        bands = [[float(b.min or 0), float(b.max or 0), b.code, None] for b in rule.bands]
    else:
        ordered = sorted(rule.bands, key=lambda b: -(b.min or 0))
        bands = [[float(b.min or 0), None, b.code, b.section_floor] for b in ordered]
    ranges: dict[str, str] = {}
    for lo, hi, code, _ in bands if closed else []:
        ranges.setdefault(str(code), f"{fmt(lo)}–{fmt(hi)}")
    source = _ast(ctx, rule.source, "source")
    return {"source": source, "from_total": rule.source == "total",
            "source_name": list(_source_name(rule.source, ctx.definition)),
            "target": rule.target, "section": rule.section, "scale": rule.scale, "closed": closed,
            "bands": bands, "ranges": ranges,
            "has_floors": any(b.section_floor is not None for b in rule.bands),
            "reads": [source]}


@_client("adjustments")
def _adjustments(rule: AdjustmentsRule, ctx: Context) -> dict[str, Any]:
    stacking, stacking_policy = ctx.policy(rule.stacking, "stacking")
    out: list[dict[str, Any]] = []
    reads: list[Any] = []
    for i, adj in enumerate(rule.adjustments):
        where = f"adjustments[{i}]"
        switch_policy: str | None = None
        others: list[Any] = []
        if isinstance(adj.when, PolicySwitch):
            switch_policy = adj.when.policy
            chosen, _ = ctx.policy(PolicyRef(policy=switch_policy), f"{where}.when")
            cases = {case: _ast(ctx, text, f"{where}.when.cases.{case}")
                     for case, text in adj.when.cases.items()}
            cond = cases.get(str(chosen), False)
            others = [ast for case, ast in cases.items() if case != str(chosen)]
        else:
            cond = _ast(ctx, adj.when, f"{where}.when")
        to, to_policy = ctx.policy(adj.to, f"{where}.to")
        to_code = int(to) if to is not None else None
        texts = _compile_adjustment(ctx.definition, adj, None, (), switch_policy, to_code,
                                    to_policy)
        reads.append(cond)
        out.append({"id": adj.id, "effect": adj.effect, "by": adj.by, "to": to_code,
                    "to_policy": to_policy, "when": cond, "others": others,
                    "switch_policy": switch_policy, "record": texts.record,
                    "text": list(texts.text), "decided": list(texts.decided),
                    "not_decided": list(texts.not_decided), "kept": list(texts.kept)})
    return {"stacking": stacking, "stacking_policy": stacking_policy,
            "stacking_mention": _mention(ctx, stacking_policy), "cap": rule.cap,
            "adjustments": out, "reads": reads}


@_client("cap")
def _cap(rule: CapRule, ctx: Context) -> dict[str, Any]:
    when = _ast(ctx, rule.when, "when")
    enabled, policy = ctx.policy(rule.enabled, "enabled")
    cap, max_policy = ctx.policy(rule.max, "max")
    return {"when": when, "enabled": bool(enabled), "max": cap, "label": _label(rule, "等级上限", "level cap"),
            "policy": policy, "policy_mention": _mention(ctx, policy),
            "max_policy": max_policy, "max_mention": _mention(ctx, max_policy),
            "reads": [when] if enabled else []}


@_client("floors")
def _floors(rule: FloorsRule, ctx: Context) -> dict[str, Any]:
    return {"floors": [{"section": f.section, "min": f.min, "min_fraction": f.min_fraction}
                       for f in rule.floors], "cap": rule.cap}


@_client("veto")
def _veto(rule: VetoRule, ctx: Context) -> dict[str, Any]:
    return {"codes": {c.code: {"zh": c.label.zh, "en": c.label.get("en")} for c in rule.codes},
            "grade": rule.grade, "facts": ["veto"]}


@_client("unqualified")
def _unqualified(rule: UnqualifiedRule, ctx: Context) -> dict[str, Any]:
    source = _ast(ctx, rule.source, "source")
    days, days_policy, texts = rectification_texts(rule, ctx)
    return {"source": source, "below": rule.below, "days": days, "days_policy": days_policy,
            "days_text": list(texts), "reads": [source]}


@_client("decision_table")
def _decision_table(rule: DecisionTableRule, ctx: Context) -> dict[str, Any]:
    rows = [[_ast(ctx, r.when, f"rows[{i}].when"), r.result] for i, r in enumerate(rule.rows)]
    precedence, prec_policy = ctx.policy(rule.precedence, "precedence")
    default, default_policy = ctx.policy(rule.default, "default")
    fallback: Any = None
    fallback_policy: str | None = None
    if isinstance(rule.fallback, PolicySwitch):
        fallback_policy = rule.fallback.policy
        chosen, _ = ctx.policy(PolicyRef(policy=fallback_policy), "fallback")
        fallback = _ast(ctx, rule.fallback.cases[str(chosen)], "fallback")
    elif rule.fallback is not None:
        fallback = _ast(ctx, rule.fallback, "fallback")
    return {"target": rule.target, "section": rule.section, "scale": rule.scale,
            "precedence": precedence, "precedence_policy": prec_policy,
            "precedence_mention": _mention(ctx, prec_policy),
            "rows": rows, "default": int(default) if default is not None else None,
            "fallback": fallback, "fallback_policy": fallback_policy or default_policy,
            "fallback_mention": _mention(ctx, fallback_policy or default_policy),
            "warn_on_conflict": rule.warn_on_conflict,
            "label": _label(rule, rule.target, rule.target),
            "reads": [r[0] for r in rows] + ([fallback] if fallback is not None else [])}


@_client("matrix")
def _matrix(rule: MatrixRule, ctx: Context) -> dict[str, Any]:
    row, column = _ast(ctx, rule.row, "row"), _ast(ctx, rule.column, "column")
    return {"row": row, "column": column, "table": rule.table, "default": rule.default,
            "target": rule.target, "scale": rule.scale, "label": _label(rule, "矩阵", "matrix"),
            "reads": [row, column]}


@_client("relative_bands")
def _relative(rule: RelativeBandsRule, ctx: Context) -> dict[str, Any]:
    source, peers = _ast(ctx, rule.source, "source"), _ast(ctx, rule.peers, "peers")
    fallback = _ast(ctx, rule.fallback, "fallback") if rule.fallback else None
    return {"source": source, "peers": peers, "fallback": fallback, "min_peers": rule.min_peers,
            "lower_is_better": rule.lower_is_better,
            "cuts": [[c.code, c.upto] for c in sorted(rule.cuts, key=lambda c: c.upto)],
            "target": rule.target, "scale": rule.scale,
            "reads": [source, peers] + ([fallback] if fallback is not None else [])}


@_client("warning")
def _warning(rule: WarningRule, ctx: Context) -> dict[str, Any]:
    return {"when": _ast(ctx, rule.when, "when"),
            "message": [rule.message.zh, rule.message.get("en")]}
