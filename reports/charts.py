"""SVG charts for documents, built as escaped markup (no plotting library, no fonts fetched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def bar_chart_svg(domains: Sequence[Mapping[str, Any]], *, width: int = 480,
                  bar_height: int = 22, gap: int = 12, label_width: int = 120,
                  color: str = "#3b6ea5", font_family: str = "Yiyang Sans", title: str = "") -> Markup:
    """Horizontal bars, one per domain: ``[{"label": ..., "score": ..., "max": ...}, ...]``.

    Each bar shows score/max as a share of the track and is labelled "score/max".
    Returns markup ready to place inline in a document template. Its accessible name is `title`
    followed by every bar's label and value, so a screen reader reads what the picture shows.
    """
    value_width = 70
    track = width - label_width - value_width
    height = len(domains) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'font-family="{escape(font_family)}" font-size="12">',
        "<title>" + str(escape("：".join(p for p in (title, "；".join(
            f'{d.get("label", "")} {_number(d.get("score")):g}/{_number(d.get("max")):g}' for d in domains)) if p)))
        + "</title>",
    ]
    for index, domain in enumerate(domains):
        score, maximum = _number(domain.get("score")), _number(domain.get("max"))
        share = min(max(score / maximum, 0.0), 1.0) if maximum > 0 else 0.0
        y = gap + index * (bar_height + gap)
        text_y = y + bar_height * 0.7
        shown_score = f"{score:g}"
        shown_max = f"{maximum:g}"
        parts.append(
            f'<text x="{label_width - 8}" y="{text_y:.1f}" text-anchor="end">'
            f'{escape(domain.get("label", ""))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{track}" height="{bar_height}" '
            f'fill="#e8edf3" stroke="#c5ced8" stroke-width="0.5"/>'
            f'<rect x="{label_width}" y="{y}" width="{track * share:.1f}" '
            f'height="{bar_height}" fill="{escape(color)}"/>'
            f'<text x="{label_width + track + 8}" y="{text_y:.1f}">'
            f'{escape(shown_score)}/{escape(shown_max)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
