"""Caps, per-section floors, vetoes (一票否决) and the unqualified threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..definitions import Model, RuleBase, Text
from .core import (
    Context,
    PolicyRef,
    State,
    Step,
    fmt,
    policy_mention,
    register,
)

if TYPE_CHECKING:
    pass

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


def rectification_texts(rule: UnqualifiedRule, ctx: Context
                        ) -> tuple[int | None, str | None, tuple[str, str]]:
    """The rectification deadline (days, policy name) and the (zh, en) words that state it."""
    days, days_policy = ctx.policy(rule.rectification_days, "rectification_days")
    if days is not None and (type(days) is not int or days <= 0):
        ctx.error("rule", "rectification_days", detail="a positive whole number of days")
        days = None
    if not days:
        return days, days_policy, ("", "")
    by_zh, by_en = policy_mention(ctx.definition, days_policy) if days_policy else ("", "")
    return days, days_policy, (f"，限 {days} 天内整改" + (f"；{by_zh}" if by_zh else ""),
                               f"; rectify within {days} days" + (f", {by_en}" if by_en else ""))


@register("unqualified", UnqualifiedRule)
def compile_unqualified(rule: UnqualifiedRule, ctx: Context) -> Step:
    """Compile the unqualified threshold ('below' excludes the number itself).

    `rectification_days` (a number or `{policy: NAME}`) is the deadline stated when the result
    is unqualified; when it comes from a policy, the explanation names the policy.
    """
    source = ctx.expr(rule.source, "source").compiled
    days, days_policy, (days_zh, days_en) = rectification_texts(rule, ctx)
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
