"""Decision tables (conditions to a code, declared precedence) and two-way matrices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..definitions import Model, RuleBase, Text
from .core import (
    Context,
    PolicyRef,
    PolicySwitch,
    State,
    Step,
    _store,
    fmt,
    register,
)

if TYPE_CHECKING:
    pass

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
        decided: tuple[str, str] | None = None  # the policy that chose the code, if one did
        if not matches:
            code = default
            note_zh = note_en = ""
            if fallback is not None:
                value = fallback(v, f)
                code = int(value) if value is not None else default
            policy = fallback_policy or default_policy
            if policy:
                decided = state.use_policy(policy)
                note_zh, note_en = "；" + decided[0], "; " + decided[1]
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
                if prec_policy:
                    decided = (note_zh, note_en)
                state.warn(
                    f"{label.zh}：同时符合多条规则（{sorted(set(matches))}），{note_zh}取 "
                    f"{state.level_name(code, rule.scale)[0]}",
                    f"{label.get('en')}: several rules match ({sorted(set(matches))}); "
                    f"{note_en}: {state.level_name(code, rule.scale)[1]}",
                )
        _store(state, rule.target, code, rule.section, rule.scale)
        lvl_zh, lvl_en = state.level_name(code, rule.scale)
        if decided is not None:  # a policy decided it: the explanation says which, not only a warning
            state.explain(f"{label.zh} → {lvl_zh}（{decided[0]}）", f"{label.get('en')} → {lvl_en} ({decided[1]})")
        else:
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
