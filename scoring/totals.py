"""How a total is formed from the section scores (registered methods)."""

from __future__ import annotations

from collections.abc import Callable

from .rules import State

# --- totals ----------------------------------------------------------------------------


def _total_sum(state: State) -> tuple[float | None, float]:
    secs = [s for s in state.sections.values() if s.get("counts", True)]
    return sum(s["score"] for s in secs), sum(s["max"] for s in secs)


def _total_weighted(state: State) -> tuple[float | None, float]:
    total = 0.0
    top = 0.0
    for sp in state.definition.sections:
        sec = state.sections.get(sp.id)
        if sec is None:
            continue
        total += sec["score"] * sp.weight
        top += sec["max"] * sp.weight
    return total, top


def _total_none(state: State) -> tuple[float | None, float]:
    return None, 0.0


TOTAL_METHODS: dict[str, Callable[[State], tuple[float | None, float]]] = {
    "sum": _total_sum,
    "weighted_sum": _total_weighted,
    "none": _total_none,
}
"""Registered ways to form the total from section scores (`total.method`)."""
