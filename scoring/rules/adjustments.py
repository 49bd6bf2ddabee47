"""Adjustments: raise or set the level when a condition holds, stacked per policy, capped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..definitions import Model, RuleBase, Text
from .core import (
    Context,
    PolicyRef,
    PolicySwitch,
    State,
    Step,
    level_names,
    policy_mention,
    register,
)

if TYPE_CHECKING:
    from ..definitions import Definition

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
    changes: dict[tuple[int, int], tuple[str, str]] = {}  # (from, to) → the step saying so

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
            if a.switch_policy is not None:
                for alt in a.others:
                    if bool(alt(v, f)) is not hit:
                        state.use_policy(a.switch_policy)
                        state.steps.append(a.decided if hit else a.not_decided)
                        break
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
            shown = min(level, cap) if cap is not None else level
            change = changes.get((base, shown))
            if change is None:  # rendered once per pair of levels (names are the definition's)
                base_zh, base_en = state.level_name(base)
                new_zh, new_en = state.level_name(shown)
                change = changes[(base, shown)] = (
                    (f"{base_zh} 已是最高等级，不再提高", f"{base_en} is already the highest level")
                    if shown == base else (f"{base_zh} → {new_zh}", f"{base_en} → {new_en}"))
            state.steps.append(change)
            if shown == base:  # already at the top: never "X → X"
                level = base
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
