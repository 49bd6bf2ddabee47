"""engine.js in Chromium: it loads under a CSP without 'unsafe-eval' and previews like Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import instruments
from scoring import relevant_items, score
from scoring.compiled import compile_definition
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser
ENGINE = Path(__file__).resolve().parents[2] / "static" / "js" / "engine.js"
CSP = "default-src 'none'; script-src 'self'"
PAGE = ("<!doctype html><html><head><script src='/engine.js'></script><script src='/data.js'></script>"
        "<script src='/run.js'></script></head><body></body></html>")
RUN = """
try { eval("1"); window.evalRefused = "no"; } catch (e) { window.evalRefused = e.name; }
(function () {
  var E = window.YiyangEngine, def = E.load(window.doc);
  var shown = E.relevance(def, window.answers);
  window.got = {preview: E.preview(def, window.answers),
                relevant: Object.keys(shown).filter(function (k) { return shown[k]; }).sort()};
})();
"""


def test_engine_runs_in_chromium_without_eval() -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    definition = instruments.get("gbt42195-2022")
    answers: dict[str, Any] = {}
    for section in definition.sections:
        for item in section.items:
            if item.options and item.type != "multiple_choice":
                answers[item.id] = item.options[-1].value
    expected = score(definition, answers)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # a page served with the app's kind of CSP (scripts from 'self' only, no eval);
            # everything runs in the page's own scripts (page.evaluate would bypass the CSP)
            scripts = {
                "/engine.js": ENGINE.read_text(encoding="utf-8"),
                "/data.js": "window.doc = " + json.dumps(compile_definition(definition)) + ";\n"
                            "window.answers = " + json.dumps(answers) + ";",
                "/run.js": RUN,
            }

            def serve(route: Any) -> None:
                path = "/" + route.request.url.split("/", 3)[3]
                if path in scripts:
                    route.fulfill(status=200, content_type="text/javascript; charset=utf-8", body=scripts[path])
                else:
                    route.fulfill(status=200, content_type="text/html", body=PAGE,
                                  headers={"Content-Security-Policy": CSP})

            page.route("http://engine.test/**", serve)
            page.goto("http://engine.test/")
            page.wait_for_function("() => window.got !== undefined")
            refused = page.evaluate("() => window.evalRefused")
            got = page.evaluate("() => window.got")
        finally:
            browser.close()
    assert refused == "EvalError"  # the page's CSP forbids eval: engine.js ran without it
    preview = got["preview"]
    assert (preview["total"], preview["level"]) == (expected.total, expected.level["code"])
    assert [[d["id"], d["score"]] for d in preview["domains"]] == \
        [[sid, s["score"]] for sid, s in expected.sections.items()]
    assert [s["zh"] for s in preview["explanation"]] == list(expected.explanation)
    assert got["relevant"] == sorted(relevant_items(definition, answers))
