"""Bands: a score range to a level code; gaps and overlaps refused unless declared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..definitions import Model, RuleBase
from .core import (
    Context,
    State,
    Step,
    _num,
    _source_name,
    _store,
    fmt,
    level_names,
    register,
)

if TYPE_CHECKING:
    pass

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
