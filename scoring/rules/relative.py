"""Relative bands (rank within a peer group) and consistency warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..definitions import Model, RuleBase, Text
from .core import (
    Context,
    State,
    Step,
    _store,
    fmt,
    register,
)

if TYPE_CHECKING:
    pass

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
