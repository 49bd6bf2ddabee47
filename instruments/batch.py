"""Batch scoring: JSON lines in, JSON lines out, in input order.

Each input line is `{"id": ..., "answers": {...}, "facts": {...}, "policies": {NAME: VALUE}}`
(`facts` and `policies` optional; `policies` overrides the pack's named settings for that line
only). Each output line is `{"id": ..., "result": {...}}` or `{"id": ..., "errors": [{"item",
"code", "message", "message_en"}]}`. Blank lines are skipped. Pure apart from the two streams.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from typing import IO, Any

from scoring import AnswerError, Definition, DefinitionError, score

ALLOWED_KEYS = frozenset({"id", "answers", "facts", "policies"})
FLUSH_EVERY = 1000


def _error(item: str | None, code: str, message: str, message_en: str) -> dict[str, Any]:
    return {"item": item, "code": code, "message": message, "message_en": message_en}


class _Variants:
    """The definition with a line's policy overrides, built once per distinct override set."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.cache: dict[tuple[tuple[str, Hashable], ...], Definition | list[dict[str, Any]]] = {}

    def get(self, policies: dict[str, Any]) -> Definition | list[dict[str, Any]]:
        if not policies:
            return self.definition
        unknown = sorted(name for name in policies if name not in self.definition.policies)
        if unknown:
            return [_error(f"policies.{name}", "unknown_policy",
                           f"未声明的政策设置 {name}；可用：{', '.join(self.definition.policies) or '无'}",
                           f"undeclared policy setting {name}") for name in unknown]
        if not all(isinstance(v, bool | int | float | str) for v in policies.values()):
            return [_error("policies", "bad_policy_value", "政策取值应为数字、文字或 true/false",
                           "policy values must be numbers, text or true/false")]
        key = tuple(sorted((k, (type(v).__name__, v)) for k, v in policies.items()))
        found = self.cache.get(key)
        if found is None:
            try:
                found = self.definition.with_policies(**policies)
            except DefinitionError as exc:
                found = [_error("policies", "bad_policy_value", e["message"], e["message_en"])
                         for e in exc.errors]
            self.cache[key] = found
        return found


def score_line(variants: _Variants, text: str, number: int) -> tuple[Any, dict[str, Any]]:
    """(id, output object) for one input line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, {"id": None, "errors": [_error(
            None, "bad_input", f"第 {number} 行不是有效的 JSON：第 {exc.colno} 列，{exc.msg}",
            f"line {number} is not valid JSON: column {exc.colno}, {exc.msg}")]}
    if not isinstance(data, dict):
        return None, {"id": None, "errors": [_error(
            None, "bad_input", f'第 {number} 行应为 {{"id", "answers", "facts"}} 对象',
            f'line {number} must be an {{"id", "answers", "facts"}} object')]}
    line_id = data.get("id")
    answers, facts, policies = data.get("answers", {}), data.get("facts") or {}, data.get("policies") or {}
    # the usual line (known keys, three objects) has nothing to report: checked in one go
    if not (ALLOWED_KEYS.issuperset(data) and type(answers) is dict and type(facts) is dict
            and type(policies) is dict):
        errors = [_error(key, "bad_input", f"未知的键 {key}；只允许 id、answers、facts、policies",
                         f"unknown key {key}; only id, answers, facts, policies")
                  for key in sorted(set(data) - ALLOWED_KEYS)]
        for name, value in (("answers", answers), ("facts", facts), ("policies", policies)):
            if not isinstance(value, dict):
                errors.append(_error(name, "bad_input", f"{name} 应为对象", f"{name} must be an object"))
        if errors:
            return line_id, {"id": line_id, "errors": errors}
    definition = variants.get(policies)
    if isinstance(definition, list):
        return line_id, {"id": line_id, "errors": definition}
    try:
        result = score(definition, answers, facts)
    except AnswerError as exc:
        return line_id, {"id": line_id, "errors": [
            {"item": e.get("item"), "code": e.get("code"), "message": e.get("message"),
             "message_en": e.get("message_en")} for e in exc.errors]}
    return line_id, {"id": line_id, "result": result.to_dict()}


def run_batch(definition: Definition, lines: Iterable[str], out: IO[str]) -> bool:
    """Score every line, writing one output line each; True when any line had errors."""
    variants = _Variants(definition)
    had_errors = False
    buffer: list[str] = []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for number, text in enumerate(lines, start=1):
        if not text or text.isspace():  # blank (the same whitespace as str.strip)
            continue
        _line_id, output = score_line(variants, text, number)
        had_errors = had_errors or "errors" in output
        buffer.append(dumps(output))
        if len(buffer) >= FLUSH_EVERY:
            out.write("\n".join(buffer) + "\n")
            buffer.clear()
    if buffer:
        out.write("\n".join(buffer) + "\n")
    out.flush()
    return had_errors


__all__ = ["run_batch", "score_line"]
