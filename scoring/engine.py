"""Scoring: answers in, a Result with the full explanation out. The pipeline's other steps live in
`compile` (definition → plan), `answers` (checks, skip logic) and `items` (per item type)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .answers import _prepare, relevant_items, validate_answers
from .compile import get_plan, load_definition_text, parse_definition
from .definitions import Definition
from .errors import AnswerError
from .plan import num
from .rules import State, fmt
from .totals import TOTAL_METHODS, _total_sum

# --- result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The outcome of scoring: scores, levels, vetoes, findings and the explanation."""

    kind: str
    definition_id: str
    version: str
    total: float | None
    max_total: float | None
    sections: dict[str, dict[str, Any]]
    preliminary_level: dict[str, Any] | None
    level: dict[str, Any] | None
    adjustments: list[dict[str, Any]]
    vetoed: bool
    vetoes: list[dict[str, Any]]
    floors_failed: list[dict[str, Any]]
    unqualified: bool | None
    findings: list[dict[str, Any]]
    explanation: tuple[str, ...]
    explanation_en: tuple[str, ...]
    warnings: tuple[str, ...]
    warnings_en: tuple[str, ...]
    policies_applied: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data with the DESIGN.md contract keys."""
        if self.kind == "assessment":
            return {
                "instrument": self.definition_id,
                "version": self.version,
                "total": num(self.total),
                "max_total": num(self.max_total),
                "domains": self.sections,
                "preliminary_level": self.preliminary_level,
                "level": self.level,
                "adjustments": self.adjustments,
                "explanation": list(self.explanation),
                "explanation_en": list(self.explanation_en),
                "warnings": list(self.warnings),
                "warnings_en": list(self.warnings_en),
            }
        return {
            "scheme": self.definition_id,
            "version": self.version,
            "total": num(self.total),
            "max_total": num(self.max_total),
            "sections": self.sections,
            "grade": self.level,
            "vetoed": self.vetoed,
            "vetoes": self.vetoes,
            "floors_failed": self.floors_failed,
            "unqualified": self.unqualified,
            "findings": self.findings,
            "adjustments": self.adjustments,
            "explanation": list(self.explanation),
            "explanation_en": list(self.explanation_en),
            "warnings": list(self.warnings),
            "warnings_en": list(self.warnings_en),
        }


def _level_dict(levels: dict[int, dict[str, Any]], code: int | None) -> dict[str, Any] | None:
    if code is None:
        return None
    cached = levels.get(code)
    if cached is None:
        return {"code": code, "label": str(code), "label_en": str(code)}
    return dict(cached)


def score(
    definition: Definition,
    answers: Mapping[str, Any],
    facts: Mapping[str, Any] | None = None,
) -> Result:
    """Score answers against a definition; raise AnswerError listing every problem."""
    plan = get_plan(definition)
    values, facts_, errors, na, direct, pre_warnings = _prepare(definition, answers, facts, False,
                                                                plan)
    if errors:
        raise AnswerError(errors)
    is_rating = definition.kind == "rating"
    state = State(definition, values, facts_, {})
    if definition.example:
        state.warn("本方案含示例配置（分数线或检查项并非官方标准），须按本地规则替换",
                   "this scheme contains example configuration (not an official standard); "
                   "replace it with the local rules")
    state.warnings.extend(pre_warnings)
    explain = state.steps.append
    severity_default = definition.default_severity
    sections_out = state.sections
    scores: list[Any] = []  # the section scores and maxima, for the usual total (a sum)
    maxima: list[Any] = []
    for sp in plan.sections:
        if not sp.scored:
            continue
        section = sp.section
        sid = section.id
        if sp.sum_values is not None:
            try:
                answered = sp.sum_values(values)
            except KeyError:  # an item is missing: the item loop below handles it
                pass
            else:
                total = sum(answered)
                if section.normalise_to is None:
                    score_out = num(total)
                    values[sp.key] = score_out
                    sections_out[sid] = {"score": score_out, "max": sp.max_out,
                                         "label": sp.title_zh, "label_en": sp.title_en}
                    scores.append(score_out)
                    maxima.append(sp.max_out)
                    texts = sp.sum_texts.get(total)
                    if texts is None:
                        text = fmt(total)
                        texts = (f"{sp.title_zh} {text}/{sp.max_text}",
                                 f"{sp.title_en} {text}/{sp.max_text}")
                    explain(texts)
                    continue
        if sid in direct:
            value = values[sp.key]
            top = section.max if section.max is not None else sp.static_max
            entry = {"score": num(value), "max": num(top), "label": sp.title_zh,
                     "label_en": sp.title_en, "entered": True}
            sections_out[sid] = entry
            values[sp.key] = entry["score"]
            scores.append(entry["score"])
            maxima.append(entry["max"])
            explain((f"{sp.title_zh} {fmt(value)}/{fmt(top)}（直接录入分项得分）",
                     f"{sp.title_en} {fmt(value)}/{fmt(top)} (entered as a section score)"))
            continue
        if not sp.items:
            continue
        total = 0
        top = sp.static_max
        na_count = 0
        for ip, iid, scorer in sp.scorers:
            if iid in na:
                top -= ip.max
                na_count += 1
                continue
            value = values.get(iid)
            if value is None:
                top -= ip.max
                continue
            points = scorer(value) or 0
            total += points
            if is_rating and points < ip.max - 1e-9:
                item = ip.item
                severity = "critical" if item.veto else (item.severity or severity_default)
                state.findings.append({
                    "item": iid, "section": sid, "label": item.title.zh,
                    "label_en": item.title.get("en"), "points_lost": num(float(ip.max - points)),
                    "severity": severity,
                })
                if item.veto and item.veto in plan.veto_codes:
                    label = definition.veto_codes[item.veto]
                    state.vetoes.append({"code": item.veto, "label": label.zh,
                                         "label_en": label.get("en"), "item": iid})
        if section.normalise_to is not None and top > 0:
            total, top = total / top * section.normalise_to, section.normalise_to
        entry = {"score": num(total), "max": num(top), "label": sp.title_zh,
                 "label_en": sp.title_en}
        if na_count:
            entry["not_applicable"] = na_count
        sections_out[sid] = entry
        values[sp.key] = entry["score"]
        scores.append(entry["score"])
        maxima.append(entry["max"])
        explain((f"{sp.title_zh} {fmt(total)}/{fmt(top)}",
                 f"{sp.title_en} {fmt(total)}/{fmt(top)}"))
    method = TOTAL_METHODS[definition.total.method]
    if method is _total_sum:  # the same sums, without walking the section dicts again
        total_value, max_total = sum(scores), sum(maxima)
    else:
        total_value, max_total = method(state)
    if definition.total.normalise_to is not None and total_value is not None and max_total:
        total_value = total_value / max_total * definition.total.normalise_to
        max_total = definition.total.normalise_to
    state.total = total_value
    state.max_total = max_total
    values["total"] = total_value
    values["max_total"] = max_total
    if total_value is not None:
        values["percent"] = total_value / max_total * 100 if max_total else None
        if type(total_value) is int and type(max_total) is int:  # fmt(num(n)) is str(n)
            explain((f"总分 {total_value}/{max_total}", f"total {total_value}/{max_total}"))
        else:
            explain((f"总分 {fmt(num(total_value))}/{fmt(num(max_total))}",
                     f"total {fmt(num(total_value))}/{fmt(num(max_total))}"))
    for step in plan.steps:
        step(state)
    vetoed = bool(state.vetoes)
    if vetoed:
        grade = state.veto_grade if state.veto_grade is not None else 0
        names_zh = "；".join(v["label"] for v in state.vetoes)
        names_en = "; ".join(v["label_en"] or v["code"] for v in state.vetoes)
        g_zh, g_en = state.level_name(grade)
        explain((f"一票否决：{names_zh} → {g_zh}", f"veto: {names_en} → {g_en}"))
        state.level = grade
    steps, warns = state.steps, state.warnings
    explanation, explanation_en = zip(*steps, strict=True) if steps else ((), ())
    warnings, warnings_en = zip(*warns, strict=True) if warns else ((), ())
    levels = plan.level_dicts
    # Result is a frozen dataclass; filling its __dict__ in one call is the same as __init__
    # with every field given, without nineteen frozen-attribute writes.
    result: Result = object.__new__(Result)
    result.__dict__.update(
        kind=definition.kind,
        definition_id=definition.id,
        version=definition.version,
        total=num(total_value) if total_value is not None else None,
        max_total=num(max_total) if total_value is not None else None,
        sections=state.sections,
        preliminary_level=_level_dict(levels, state.preliminary),
        level=_level_dict(levels, state.level),
        adjustments=state.adjustments,
        vetoed=vetoed,
        vetoes=state.vetoes,
        floors_failed=state.floors_failed,
        unqualified=state.unqualified,
        findings=state.findings,
        explanation=explanation,
        explanation_en=explanation_en,
        warnings=warnings,
        warnings_en=warnings_en,
        policies_applied=tuple(state.policies_used),
    )
    return result


__all__ = ["TOTAL_METHODS", "Result", "get_plan", "load_definition_text", "parse_definition", "relevant_items",
           "score", "validate_answers"]
