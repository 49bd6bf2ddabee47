"""A definition compiled for a browser: one JSON document that `static/js/engine.js` evaluates.

The document holds everything the form needs without the server: items with their checks and
option labels, skip logic, constraints and calculations as expression ASTs (`Expression.to_json`,
never source text to parse again), the messages of every answer problem in both languages,
sections with their maxima, and the scoring rules with policies already resolved. A rule type the
browser does not implement is kept by name with `"client": false`; the preview then reports that
part as needing the server instead of a figure.

`FORMAT` is bumped whenever the document's shape changes; a client refuses a format it does not
know. docs/forms.md ("client-side evaluation") describes the format and the parity test.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .compile import get_plan
from .compiled_rules import CLIENT_RULES, rule_context
from .definitions import Definition, Level, Text
from .errors import MESSAGES
from .items import check_spec
from .plan import num
from .totals import TOTAL_METHODS

FORMAT = 1
"""Version of the compiled document's shape (engine.js checks it)."""

CLIENT_TOTALS = ("sum", "weighted_sum", "none")
"""Total methods engine.js implements; any other registered method needs the server."""

ANSWER_CODES = (
    "unknown_item", "not_an_option", "not_options", "duplicate_option", "out_of_range",
    "not_multiple", "required", "required_section", "wrong_type", "bad_date", "too_long",
    "constraint", "calculated_item", "not_applicable_refused", "section_and_items", "bad_input",
    "bad_fact",
)

NEEDS_SERVER = {
    "rule": ("本规则需要服务器计算：{rule}", "this rule is computed on the server: {rule}"),
    "total": ("总分算法 {method} 需要服务器计算", "the total method {method} is computed on the server"),
    "facts": ("需要服务器提供的事实数据：{facts}", "needs facts the server holds: {facts}"),
}


def _text(text: Text | None) -> dict[str, str] | None:
    return None if text is None else {"zh": text.zh, "en": text.get("en")}


def _plain(value: Any) -> Any:
    """A YAML value as JSON: dates (an unquoted 2024-01-01) as their ISO text."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _level(level: Level) -> dict[str, Any]:
    out: dict[str, Any] = {"code": level.code, "label": _text(level.label)}
    if level.stars is not None:
        out["stars"] = level.stars
    if level.medal is not None:
        out["medal"] = level.medal
    return out


def _facts_read(asts: list[Any], out: set[str]) -> None:
    """Collect `facts.NAME` references from JSON ASTs."""
    stack = list(asts)
    while stack:
        node = stack.pop()
        if isinstance(node, dict) and isinstance(node.get("ref"), str):
            if node["ref"].startswith("facts."):
                out.add(node["ref"][6:])
        elif isinstance(node, list):
            stack.extend(node[1:])


def _items(definition: Definition) -> list[dict[str, Any]]:
    plan = get_plan(definition)
    out: list[dict[str, Any]] = []
    for ip in plan.items.values():
        item = ip.item
        spec = check_spec(item)
        spec.pop("describe")
        entry: dict[str, Any] = {
            "id": item.id,
            "type": item.type,
            "section": ip.section,
            "title": _text(item.title),
            "hint": _text(item.hint),
            "required": ip.required,
            "na_allowed": item.not_applicable_allowed,
            "options": [{"value": o.value, "label": _text(o.label), "score": num(o.points)}
                        for o in item.options],
            "check": spec,
            "allowed": {"zh": ip.allowed_zh, "en": ip.allowed_en},
            "scored": ip.score is not None,
            "max": num(ip.max),
            "weight": item.weight,
            "points": item.points,
            "per": item.per,
            "severity": item.severity,
            "veto": item.veto,
            "has_default": item.default is not None,
            "default": _plain(item.default),
        }
        for kind in ("relevant", "constraint", "calculate"):
            expr = getattr(ip, kind)
            entry[kind] = expr.to_json() if expr is not None else None
        entry["constraint_source"] = ip.constraint.source if ip.constraint is not None else None
        entry["constraint_message"] = _text(item.constraint_message)
        out.append(entry)
    return out


def _sections(definition: Definition) -> list[dict[str, Any]]:
    plan = get_plan(definition)
    return [{
        "id": sp.section.id,
        "title": {"zh": sp.title_zh, "en": sp.title_en},
        "items": [ip.item.id for ip in sp.items],
        "max": num(float(sp.static_max)),
        "declared_max": sp.section.max,
        "required": sp.section.required,
        "relevant": sp.relevant.to_json() if sp.relevant is not None else None,
        "weight": sp.section.weight,
        "scored": sp.scored,
        "normalise_to": sp.section.normalise_to,
        "direction": sp.section.direction,
    } for sp in plan.sections]


def compile_definition(definition: Definition, *, checksum: str | None = None) -> dict[str, Any]:
    """The JSON document a browser needs to run the form and preview the score offline."""
    ctx = rule_context(definition)
    rules: list[dict[str, Any]] = []
    rule_facts: set[str] = set()
    needs_server: list[dict[str, Any]] = []
    for index, rule in enumerate(definition.rules):
        serialise = CLIENT_RULES.get(rule.type)
        if serialise is None:
            name = rule.id or rule.type
            rules.append({"type": rule.type, "id": rule.id, "client": False})
            zh, en = NEEDS_SERVER["rule"]
            needs_server.append({"part": f"rules[{index}]", "affects": "level",
                                 "reason": {"zh": zh.format(rule=name), "en": en.format(rule=name)}})
            continue
        ctx.where = f"rules[{index}]."
        data = serialise(rule, ctx)
        _facts_read(data.pop("reads", []), rule_facts)
        rule_facts.update(data.pop("facts", []))
        rules.append({"type": rule.type, "id": rule.id, "client": True, **data})
    method = definition.total.method
    if method not in CLIENT_TOTALS and method in TOTAL_METHODS:
        zh, en = NEEDS_SERVER["total"]
        needs_server.append({"part": "total", "affects": "total",
                             "reason": {"zh": zh.format(method=method), "en": en.format(method=method)}})
    items = _items(definition)
    sections = _sections(definition)
    form_facts: set[str] = set()
    _facts_read([i[k] for i in items for k in ("relevant", "constraint", "calculate")]
                + [s["relevant"] for s in sections], form_facts)
    return {
        "format": FORMAT,
        "id": definition.id,
        "version": definition.version,
        "checksum": checksum,
        "kind": definition.kind,
        "title": _text(definition.title),
        "example": definition.example,
        "sections": sections,
        "items": items,
        "levels": [_level(lv) for lv in definition.levels],
        "scales": {name: [_level(lv) for lv in scale] for name, scale in definition.scales.items()},
        "policies": {name: {"value": p.value, "title": _text(p.title)}
                     for name, p in definition.policies.items()},
        "total": {"method": method, "normalise_to": definition.total.normalise_to,
                  "client": method in CLIENT_TOTALS},
        "default_severity": definition.default_severity,
        "veto_codes": {code: _text(label) for code, label in definition.veto_codes.items()},
        "rules": rules,
        "facts": {"form": sorted(form_facts), "rules": sorted(rule_facts)},
        "needs_server": needs_server,
        "messages": {code: list(MESSAGES[code]) for code in ANSWER_CODES},
    }
