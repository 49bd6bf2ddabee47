"""Answers against a definition: checks, coercion, skip logic, required items and sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .compile import get_plan
from .definitions import NA, Definition
from .errors import Bi, answer_error
from .items import _is_number, _type_name
from .plan import Plan
from .rules import fmt, scalar_text

# --- answers ---------------------------------------------------------------------------


def _check_facts(definition: Definition, plan: Plan, facts: Mapping[str, Any],
                 errors: list[dict[str, Any]]) -> None:
    veto = facts.get("veto")
    if veto is None:
        return
    if not isinstance(veto, list | tuple) or not all(isinstance(v, str) for v in veto):
        errors.append(answer_error("facts.veto", "bad_fact", fact="veto",
                                   detail=Bi("应为一票否决代码列表", "a list of veto codes")))
        return
    unknown = [v for v in veto if v not in plan.veto_codes]
    if unknown:
        allowed = Bi("、".join(sorted(plan.veto_codes)) or "（本方案无一票否决项）",
                     ", ".join(sorted(plan.veto_codes)) or "(this scheme has no veto codes)")
        errors.append(answer_error("facts.veto", "not_options", value=unknown, allowed=allowed))


def _prepare(
    definition: Definition,
    answers: Mapping[str, Any],
    facts: Mapping[str, Any] | None,
    partial: bool,
    plan: Plan | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], set[str], set[str],
           list[tuple[str, str]]]:
    """Check and coerce answers: (values, facts, errors, not-applicable, direct sections, warns)."""
    if plan is None:
        plan = get_plan(definition)
    errors: list[dict[str, Any]] = []
    warnings: list[tuple[str, str]] = []
    if not isinstance(answers, Mapping):
        return {}, {}, [answer_error(None, "bad_input",
                                     detail=Bi("answers 应为对象", "answers must be an object"))], set(), set(), []
    if facts is None:
        facts = {}
    elif not isinstance(facts, Mapping):
        errors.append(answer_error(None, "bad_input",
                                     detail=Bi("facts 应为对象", "facts must be an object")))
        facts = {}
    items = plan.items
    values: dict[str, Any] = {}
    na: set[str] = set()
    direct: set[str] = set()
    invalid: set[str] = set()
    is_rating = definition.kind == "rating"
    fast, fast_booleans = plan.fast_choices, plan.fast_booleans
    for key, value in answers.items():
        # the usual answers, already what their check would return: taken as they are
        kind = type(value)
        if kind is int:
            table = fast.get(key)
            if table is not None and value in table:
                values[key] = value
                continue
        elif kind is bool and key in fast_booleans:
            values[key] = value
            continue
        ip = items.get(key)
        if ip is None:
            if is_rating and any(sp.section.id == key and sp.scored for sp in plan.sections):
                sp = next(s for s in plan.sections if s.section.id == key)
                top = sp.section.max if sp.section.max is not None else sp.static_max
                if not _is_number(value):
                    errors.append(answer_error(key, "wrong_type", got=_type_name(value),
                                               expected=Bi(f"分项得分，0 至 {fmt(top)}",
                                                           f"a section score from 0 to {fmt(top)}")))
                elif not 0 <= value <= top:
                    errors.append(answer_error(key, "out_of_range", value=fmt(value),
                                               minimum=0, maximum=fmt(top)))
                else:
                    direct.add(key)
                    values[f"section.{key}"] = value
                continue
            errors.append(answer_error(key, "unknown_item", name=key, definition=definition.id))
            continue
        if value is None:
            continue
        if ip.calculate is not None:
            errors.append(answer_error(key, "calculated_item"))
            continue
        if value == NA and isinstance(value, str) and ip.item.type != "text":
            if ip.item.not_applicable_allowed:
                na.add(key)
            else:
                errors.append(answer_error(key, "not_applicable_refused"))
            continue
        coerced, err = ip.check(value)
        if err is not None:
            errors.append(err)
            invalid.add(key)
        else:
            values[key] = coerced
    _check_facts(definition, plan, facts, errors)
    for sp in plan.sections if direct else ():  # in definition order, not set order
        sid = sp.section.id
        if sid not in direct:
            continue
        both = [p.item.id for p in sp.items if p.item.id in values or p.item.id in na]
        if both:
            errors.append(answer_error(sid, "section_and_items", section=sid, items=both))
    if not plan.dynamic:
        if not partial and not plan.required_ids <= values.keys():
            for sp in plan.sections:
                if sp.section.id in direct:
                    continue
                for ip in sp.items:
                    if ip.required and ip.item.id not in values and ip.item.id not in invalid:
                        errors.append(answer_error(ip.item.id, "required",
                                                   allowed=Bi(ip.allowed_zh, ip.allowed_en)))
        _required_sections(plan, direct, partial, errors)
        return values, dict(facts), _named(plan, errors), na, direct, warnings
    for ip in plan.with_defaults if not plan.default_ids <= values.keys() else ():
        iid = ip.item.id
        if iid not in values and iid not in na and ip.item.id not in answers:
            values[iid] = ip.item.default
            if not partial:
                warnings.append((f"{iid} 未作答，按默认值 {scalar_text(ip.item.default)} 计",
                                 f"{iid} not answered; default {scalar_text(ip.item.default)} used"))
    hidden: set[str] = set()
    # Items are checked in definition order against the values as they stand: an item hidden
    # earlier is already gone when a later condition reads it. Items without a condition in a
    # section without one are always shown and not walked (plan.relevance).
    env = facts or {}
    for section_on, guard, walk in plan.relevance:
        if guard is not None and guard(values, env):  # every item here is shown
            continue
        on = section_on is None or bool(section_on(values, env))
        for iid, relevant in walk:
            if on and (relevant is None or relevant(values, env)):
                continue
            hidden.add(iid)
            if iid in values:
                if answers.get(iid) is not None:
                    warnings.append((f"{iid} 不适用于当前作答（跳题），其答案不计",
                                     f"{iid} is skipped by the skip logic; answer ignored"))
                del values[iid]
            na.discard(iid)
    for ip in plan.calculated:
        if ip.item.id in hidden or ip.calculate is None:
            continue
        values[ip.item.id] = ip.calculate.evaluate(values, facts)
    # Without constraints, and with every required item answered, the loop below finds nothing.
    complete = not plan.has_constraints and (partial or plan.required_ids <= values.keys())
    for sp in plan.sections if not complete else ():
        if sp.section.id in direct:
            continue
        for ip in sp.items:
            iid = ip.item.id
            if iid in hidden or iid in na or iid in invalid:
                continue
            if iid not in values:
                if ip.required and not partial and ip.calculate is None:
                    errors.append(answer_error(iid, "required",
                                               allowed=Bi(ip.allowed_zh, ip.allowed_en)))
                continue
            if ip.constraint is not None and not ip.constraint.evaluate(values, facts):
                msg = ip.item.constraint_message
                errors.append(answer_error(
                    iid, "constraint",
                    message=msg.zh if msg else f"不满足约束条件 {ip.constraint.source}",
                    message_en=msg.get("en") if msg else
                    f"constraint not met: {ip.constraint.source}"))
    na |= hidden
    _required_sections(plan, direct, partial, errors)
    return values, dict(facts), _named(plan, errors), na, direct, warnings


def _required_sections(plan: Plan, direct: set[str], partial: bool,
                       errors: list[dict[str, Any]]) -> None:
    """A required section with no items must be entered as a score (its items' own `required`
    covers the others): without it a scheme would grade an empty answer set. Skip logic never
    hides such a section: hiding is per item, and it has none."""
    if partial:
        return
    for sp in plan.entered_sections:  # required, scored and without items, in definition order
        section = sp.section
        if section.id in direct:
            continue
        top = section.max if section.max is not None else sp.static_max
        errors.append(answer_error(section.id, "required_section", maximum=fmt(top)))


def _named(plan: Plan, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name each error's item (or section) by its code and label: "B.1.1 进食：必填项未作答"."""
    if not errors:
        return errors
    sections = {sp.section.id: sp.section.title for sp in plan.sections}
    for error in errors:
        key = error.get("item")
        ip = plan.items.get(key) if isinstance(key, str) else None
        title = ip.item.title if ip is not None else sections.get(key) if isinstance(key, str) else None
        if title is None or error.get("label") is not None:
            continue
        error["label"] = title.zh
        error["message"] = f"{key} {title.zh}：{error['message']}"
        error["message_en"] = f"{key} {title.get('en')}: {error['message_en']}"
    return errors


def validate_answers(
    definition: Definition,
    answers: Mapping[str, Any],
    facts: Mapping[str, Any] | None = None,
    *,
    partial: bool = False,
) -> list[dict[str, Any]]:
    """Return every problem with the answers; with partial=True missing items are not errors."""
    return _prepare(definition, answers, facts, partial)[2]


def relevant_items(
    definition: Definition, answers: Mapping[str, Any], facts: Mapping[str, Any] | None = None
) -> set[str]:
    """Ids of items shown under the skip logic for these (possibly partial) answers."""
    plan = get_plan(definition)
    values, facts_, _, _, _, _ = _prepare(definition, answers, facts, True)
    shown: set[str] = set()
    for sp in plan.sections:
        if sp.relevant is not None and not sp.relevant.evaluate(values, facts_):
            continue
        for ip in sp.items:
            if ip.relevant is None or ip.relevant.evaluate(values, facts_):
                shown.add(ip.item.id)
    return shown
