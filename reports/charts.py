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


PALETTE = ("#3b6ea5", "#e0913a", "#4f9a6b", "#c0504d", "#8064a2", "#4bacc6", "#9b8b3c", "#7f7f7f")


def _title(title: str, parts: Sequence[str]) -> str:
    """The chart's accessible name: its title, then what it shows (punctuation for both languages)."""
    return "<title>" + str(escape(": ".join(p for p in (title, "; ".join(parts)) if p))) + "</title>"


def _open(width: int, height: int, font_family: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-family="{escape(font_family)}" font-size="12">')


def count_bars_svg(items: Sequence[Mapping[str, Any]], *, width: int = 560, bar_height: int = 20, gap: int = 8,
                   label_width: int = 150, color: str = PALETTE[0], font_family: str = "Yiyang Sans",
                   title: str = "") -> Markup:
    """Horizontal bars of counts, one per ``{"label": ..., "value": ...}``, scaled to the largest
    and labelled with the count. The accessible name lists every bar's label and count."""
    value_width = 70
    track = width - label_width - value_width
    largest = max((_number(i.get("value")) for i in items), default=0.0) or 1.0
    height = len(items) * (bar_height + gap) + gap
    parts = [_open(width, height, font_family),
             _title(title, [f'{i.get("label", "")} {_number(i.get("value")):g}' for i in items])]
    for index, item in enumerate(items):
        value = _number(item.get("value"))
        y = gap + index * (bar_height + gap)
        text_y = y + bar_height * 0.72
        parts.append(
            f'<text x="{label_width - 8}" y="{text_y:.1f}" text-anchor="end">{escape(item.get("label", ""))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{track * value / largest:.1f}" height="{bar_height}" '
            f'fill="{escape(color)}"/><text x="{label_width + track * value / largest + 6:.1f}" y="{text_y:.1f}">'
            f'{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart_svg(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
                     width: int = 640, height: int = 260, stacked: bool = True, percent: bool = False,
                     font_family: str = "Yiyang Sans", title: str = "",
                     colors: Sequence[str] = PALETTE) -> Markup:
    """Vertical columns per category (a month), one series per ``(name, values)``: stacked (or
    side by side), in counts or as shares of each column (`percent`), with a legend and a y
    axis. The accessible name lists each category's values, so it reads without the picture."""
    legend_height = 18 * ((len(series) + 3) // 4) + 6
    left, bottom, top = 44, 34, 10 + legend_height
    plot_w, plot_h = width - left - 10, height - top - bottom
    totals = [sum(_number(values[i]) for _name, values in series) for i in range(len(categories))]
    if percent:
        scale_max = 100.0
    elif stacked:
        scale_max = max(totals, default=0.0)
    else:
        scale_max = max((_number(v) for _n, values in series for v in values), default=0.0)
    scale_max = scale_max or 1.0
    described = [f"{c} " + ", ".join(f"{name} {_number(values[i]):g}" for name, values in series)
                 for i, c in enumerate(categories)]
    parts = [_open(width, height, font_family), _title(title, described)]
    for index, (name, _values) in enumerate(series):  # the legend, four to a row
        x, y = left + (index % 4) * ((width - left) // 4), 6 + (index // 4) * 18
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{escape(colors[index % len(colors)])}"/>'
                     f'<text x="{x + 16}" y="{y + 10}">{escape(name)}</text>')
    for step in range(5):  # y axis: five gridlines
        value = scale_max * step / 4
        y = top + plot_h - plot_h * step / 4
        label = f"{value:.0f}%" if percent else f"{value:.0f}"
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee4" '
                     f'stroke-width="0.5"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    slot = plot_w / max(len(categories), 1)
    column = slot * 0.7
    for i, category in enumerate(categories):
        x0 = left + i * slot + (slot - column) / 2
        base = top + plot_h
        for s, (_name, values) in enumerate(series):
            value = _number(values[i])
            if percent:
                value = value * 100 / totals[i] if totals[i] else 0.0
            bar = plot_h * value / scale_max
            color = escape(colors[s % len(colors)])
            if stacked:
                base -= bar
                parts.append(f'<rect x="{x0:.1f}" y="{base:.1f}" width="{column:.1f}" height="{bar:.1f}" fill="{color}"/>')
            else:
                w = column / max(len(series), 1)
                parts.append(f'<rect x="{x0 + s * w:.1f}" y="{top + plot_h - bar:.1f}" width="{w:.1f}" '
                             f'height="{bar:.1f}" fill="{color}"/>')
        parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'font-size="10">{escape(category)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
