// Runs static/js/engine.js under node for tests/scoring/test_scoring_client_parity.py. Reads from
// the file named on the command line either {definitions: [compiled...], cases: [{definition,
// answers, facts}]} and prints, per case, what the browser's engine answers, or {expressions:
// [{ast, values, facts, self}]} and prints each expression's value.
"use strict";
const fs = require("fs");
const path = require("path");
require(path.join(__dirname, "..", "..", "static", "js", "engine.js"));
const E = globalThis.YiyangEngine;
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (input.expressions) {
  const values = input.expressions.map((x) => {
    const v = E.evaluate(x.ast, x.values, x.facts, x.self);
    return v === undefined ? null : v;
  });
  process.stdout.write(JSON.stringify(values));
} else {
  const defs = input.definitions.map((doc) => E.load(doc));
  const out = input.cases.map((c) => {
    const def = defs[c.definition];
    const shown = E.relevance(def, c.answers, c.facts);
    const preview = E.preview(def, c.answers, c.facts);
    return {
      relevant: Object.keys(shown).filter((id) => shown[id]).sort(),
      problems: E.problems(def, c.answers, "zh", { facts: c.facts }).map((p) => [p.item, p.code, p.message]),
      problems_en: E.problems(def, c.answers, "en", { facts: c.facts }).map((p) => p.message),
      partial: E.problems(def, c.answers, "zh", { facts: c.facts, partial: true }).map((p) => [p.item, p.code]),
      calculated: E.calculate(def, c.answers, c.facts),
      preview: preview,
    };
  });
  process.stdout.write(JSON.stringify(out));
}
