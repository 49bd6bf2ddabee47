"""The statistics' SVG charts: server-rendered, escaped, readable without the picture."""

from __future__ import annotations

import re

from reports.charts import column_chart_svg, count_bars_svg


def _columns(svg: str) -> list[float]:
    """The heights of the columns' rectangles (the legend's 12 × 12 squares left out)."""
    return [float(h) for w, h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="([\d.]+)"', svg)
            if w != "12"]


def test_column_chart_stacks_series_and_names_every_value() -> None:
    svg = str(column_chart_svg(["2026-03", "2026-04"], [("轻度", [1, 3]), ("<重度>", [3, 0])], title="按月"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    title = re.search(r"<title>(.*?)</title>", svg).group(1)  # type: ignore[union-attr]
    assert title == "按月: 2026-03 轻度 1, &lt;重度&gt; 3; 2026-04 轻度 3, &lt;重度&gt; 0"
    assert "<重度>" not in svg  # labels are escaped
    heights = _columns(svg)  # column 1: 1 then 3; column 2: 3 then 0
    assert abs(heights[0] * 3 - heights[1]) < 0.2 and heights[2] == heights[1] and heights[3] == 0


def test_column_chart_in_percent_fills_each_column() -> None:
    svg = str(column_chart_svg(["a", "b"], [("x", [1, 2]), ("y", [3, 2])], percent=True))
    heights = _columns(svg)
    assert abs((heights[0] + heights[1]) - (heights[2] + heights[3])) < 0.2 and "100%" in svg


def test_count_bars_scale_to_the_largest() -> None:
    svg = str(count_bars_svg([{"label": "东城区", "value": 50}, {"label": "西城区", "value": 25}], width=400,
                             label_width=100))
    widths = [float(w) for w in re.findall(r'<rect x="100" y="\d+" width="([\d.]+)"', svg)]
    assert widths == [230.0, 115.0] and "东城区 50; 西城区 25" in svg
    assert count_bars_svg([]).startswith("<svg")
