"""Definition loading: schema validation, then one compile into a Plan (checks, scorers, rules)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .definitions import Definition
from .errors import DefinitionError, definition_error
from .expressions import Expression, or_guard
from .items import _identity_getter, _make_check, _make_score
from .plan import RESERVED, ItemPlan, Plan, SectionPlan, _level_dict_uncached, num
from .rules import RULES, Context, Step, fmt, target_of
from .totals import TOTAL_METHODS


def _compile(definition: Definition, source: str) -> Plan:
    errors: list[dict[str, Any]] = []
    names: set[str] = set(RESERVED)
    seen: dict[str, str] = {}
    for si, section in enumerate(definition.sections):
        for key, where in [(section.id, f"sections[{si}]")] + [
            (item.id, f"sections[{si}].items[{ii}]") for ii, item in enumerate(section.items)
        ]:
            if key in seen:
                errors.append(definition_error(source, key, "duplicate_id", field=where, id=key))
            seen[key] = where
        names.add(f"section.{section.id}")
        names.update(item.id for item in section.items)
        if definition.kind == "rating":
            names.add(section.id)
    for rule in definition.rules:
        target = target_of(rule)
        if target:
            names.add(target)
    codes = [lv.code for lv in definition.levels]
    if len(set(codes)) != len(codes):
        errors.append(definition_error(source, None, "duplicate_id", field="levels",
                                       id=str(codes)))

    ctx = Context(definition, source, names, errors)
    items: dict[str, ItemPlan] = {}
    sections: list[SectionPlan] = []
    expressions: dict[str, dict[str, Expression]] = {}
    dynamic = False
    for si, section in enumerate(definition.sections):
        plans: list[ItemPlan] = []
        for ii, item in enumerate(section.items):
            where = f"sections[{si}].items[{ii}]."
            ctx.where = where
            if item.type in ("single_choice", "multiple_choice") and not item.options:
                errors.append(definition_error(source, item.id, "bad_option",
                                               field=where + "options", detail="no options"))
            values = [o.value for o in item.options]
            if len(set(map(repr, values))) != len(values):
                errors.append(definition_error(source, item.id, "bad_option",
                                               field=where + "options",
                                               detail="option values repeat"))
            if item.type == "deduction" and (item.points is None or item.per is None):
                errors.append(definition_error(source, item.id, "rule", field=where + "points",
                                               detail="deduction items need points and per"))
            if item.type == "section_score" and item.max is None:
                errors.append(definition_error(source, item.id, "rule", field=where + "max",
                                               detail="section_score items need max"))
            check, a_zh, a_en = _make_check(item)
            if item.not_applicable_allowed:
                a_zh += "，或 na（不适用）"
                a_en += ", or na (not applicable)"
            plan = ItemPlan(item, section.id, check, a_zh, a_en, _make_score(item),
                            item.max_score * item.weight if item.is_scored else 0.0,
                            item.required if item.required is not None else section.required)
            exprs: dict[str, Expression] = {}
            for kind in ("relevant", "constraint", "calculate"):
                text = getattr(item, kind)
                if text is not None:
                    expr = ctx.expr(text, kind, item=item.id)
                    exprs[kind] = expr
                    setattr(plan, kind, expr)
                    dynamic = True
            if item.not_applicable_allowed or item.default is not None:
                dynamic = True
            if exprs:
                expressions[item.id] = exprs
            items[item.id] = plan
            plans.append(plan)
        ctx.where = f"sections[{si}]."
        rel = ctx.expr(section.relevant, "relevant") if section.relevant else None
        if rel is not None:
            dynamic = True
            expressions[section.id] = {"relevant": rel}
        static_max = float(sum(p.max for p in plans))
        scored = section.scored and (any(p.score for p in plans) or (
            definition.kind == "rating" and not plans))
        if plans and section.max is not None and scored and abs(static_max - section.max) > 1e-9:
            errors.append(definition_error(source, section.id, "max_mismatch",
                                           field=f"sections[{si}].max", what=section.id,
                                           declared=fmt(section.max), computed=fmt(static_max)))
        if not plans and scored and section.max is None:
            errors.append(definition_error(source, section.id, "rule", field=f"sections[{si}]",
                                           detail="a section without items needs max"))
        top_max = static_max if plans else float(section.max or 0)
        top_out = int(top_max) if top_max.is_integer() else top_max
        scorers = [(p, p.item.id, p.score) for p in plans if p.score]
        sum_values = _identity_getter(definition, plans, scorers)
        title_zh, title_en, max_text = section.title.zh, section.title.get("en"), fmt(top_out)
        sum_texts = {n: (f"{title_zh} {fmt(n)}/{max_text}", f"{title_en} {fmt(n)}/{max_text}")
                     for n in range(int(top_max) + 1)} \
            if sum_values is not None and top_max <= 2000 else {}
        sections.append(SectionPlan(
            section, plans, top_out, scored, rel, scorers, key=f"section.{section.id}",
            title_zh=title_zh, title_en=title_en, max_text=max_text, max_out=num(top_out),
            sum_values=sum_values, sum_texts=sum_texts,
        ))
    if definition.total.method not in TOTAL_METHODS:
        errors.append(definition_error(source, None, "rule", field="total.method",
                                       detail=f"unknown method; known: {sorted(TOTAL_METHODS)}"))
    steps: list[Step] = []
    for ri, rule in enumerate(definition.rules):
        ctx.where = f"rules[{ri}]."
        steps.append(RULES[rule.type].compile(rule, ctx))
    if errors:
        raise DefinitionError(errors)
    return Plan(
        items=items, sections=sections, steps=steps, item_expressions=expressions,
        dynamic=dynamic, calculated=[p for p in items.values() if p.calculate is not None],
        with_defaults=[p for p in items.values() if p.item.default is not None],
        veto_codes=frozenset(definition.veto_codes),
        fast_choices={
            p.item.id: frozenset(o.value for o in p.item.options)
            for p in items.values()
            if p.item.type == "single_choice" and p.calculate is None
            and all(type(o.value) is int for o in p.item.options)
        } | {
            p.item.id: frozenset(range(int(p.item.min or 0), int(p.item.max) + 1))
            for p in items.values()
            if p.item.type in ("count", "integer") and p.calculate is None
            and p.item.max is not None and p.item.max - (p.item.min or 0) <= 1000
            and not p.item.step and (p.item.min is not None or p.item.type == "count")
        },
        fast_booleans=frozenset(
            p.item.id for p in items.values()
            if p.item.type == "boolean" and not p.item.options and p.calculate is None),
        entered_sections=[sp for sp in sections
                          if sp.section.required and sp.scored and not sp.items],
        has_relevance=any(p.relevant is not None for p in items.values())
        or any(s.relevant is not None for s in sections),
        level_dicts={lv.code: _level_dict_uncached(lv) for lv in definition.levels},
        required_ids=frozenset(p.item.id for p in items.values() if p.required),
        has_constraints=any(p.constraint is not None for p in items.values()),
        default_ids=frozenset(p.item.id for p in items.values() if p.item.default is not None),
        relevance=_relevance(sections),
    )


def _relevance(sections: list[SectionPlan]) -> list[tuple[Any, Any, list[tuple[str, Any]]]]:
    """The skip logic to walk per call: sections with a condition and all their items, and in
    other sections only the items with a condition (the rest are always shown).

    A section whose walked items all read `G or ...` with one G (GB/T 42195's B items: `not
    (A.5.11 == true and ...) or answered(.)`) gets G as its guard when G cannot raise and reads
    no item the skip logic may hide: G then has one value for the whole walk, and when it holds
    every item's condition holds, so the walk is skipped."""
    hideable = {ip.item.id for sp in sections for ip in sp.items
                if sp.relevant is not None or ip.relevant is not None}
    out: list[tuple[Any, Any, list[tuple[str, Any]]]] = []
    for sp in sections:
        section_on = sp.relevant.compiled if sp.relevant is not None else None
        walked = [ip for ip in sp.items if section_on is not None or ip.relevant is not None]
        if not walked:
            continue
        guard = None
        if section_on is None:
            guards = [or_guard(ip.relevant) for ip in walked if ip.relevant is not None]
            first = guards[0]
            if first is not None and len(guards) == len(walked) and not first[2] & hideable \
                    and all(g is not None and g[0] == first[0] for g in guards):
                guard = first[1]
        out.append((section_on, guard, [
            (ip.item.id, ip.relevant.compiled if ip.relevant is not None else None)
            for ip in walked]))
    return out


def get_plan(definition: Definition) -> Plan:
    """Return the compiled plan of a definition, compiling it on first use."""
    plan = definition.__pydantic_private__.get("_plan")  # type: ignore[union-attr,unused-ignore]
    if plan is None:
        plan = _compile(definition, definition._source)
        definition._plan = plan
    return plan  # type: ignore[no-any-return,unused-ignore]


def _loc_to_item(data: Any, loc: tuple[Any, ...]) -> tuple[str | None, str]:
    item: str | None = None
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
        try:
            node = node[part]
            if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                item = node["id"]
        except (KeyError, IndexError, TypeError):
            node = None
    return item, ".".join(parts)


def parse_definition(data: Mapping[str, Any], *, source: str = "<string>") -> Definition:
    """Validate a definition mapping and compile it; raise DefinitionError listing every problem."""
    if not isinstance(data, Mapping):
        raise DefinitionError([definition_error(source, None, "schema", field="<root>",
                                                detail="the definition must be a mapping")])
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            item, where = _loc_to_item(data, tuple(err["loc"]))
            detail = err["msg"].removeprefix("Value error, ")
            errors.append(definition_error(source, item, "schema", field=where or "<root>",
                                           detail=detail))
        raise DefinitionError(errors) from None
    definition._source = source
    definition._plan = _compile(definition, source)
    definition._raw = copy.deepcopy(dict(data))
    return definition


def load_definition_text(text: str, *, source: str = "<string>") -> Definition:
    """Parse YAML text (safe loader only) into a Definition; errors name the source.

    libyaml's safe loader (`CSafeLoader`) builds the same data five times faster than the pure
    Python one; every process start parses each shipped pack, so it is used where installed.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise DefinitionError([definition_error(
            source, None, "yaml", position=position, detail=str(getattr(exc, "problem", exc)))
        ]) from None
    return parse_definition(data, source=source)
