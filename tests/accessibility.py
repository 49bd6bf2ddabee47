"""axe-core in the browser tests: the vendored engine (tests/vendor/axe-core) run in a page, and
the page-layout checks issue 10 asks for (no sideways scrolling at 320 CSS px)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The page's axe violations of these impacts, one readable line per offending element."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
          return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
        }""", TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} @ {t}" for v in found if v["impact"] in impacts
            for t in v["targets"]]


def sideways_overflow(page: Any) -> int:
    """How many CSS px the page scrolls sideways (0 when it fits its viewport)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
