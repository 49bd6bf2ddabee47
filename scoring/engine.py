"""The pipeline: parse → validate definition → compile plan → validate answers → score."""

from __future__ import annotations

import copy
import datetime as _dt
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .definitions import NA, Definition, Item, Section
from .errors import AnswerError, Bi, DefinitionError, answer_error, definition_error
from .expressions import Expression
from .rules import RULES, Context, State, Step, fmt, scalar_text, target_of

RESERVED = ("total", "max_total", "percent", "level")

Check = Callable[[Any], "tuple[Any, dict[str, Any] | None]"]


def num(value: Any) -> Any:
    """Normalise a number for output: integral floats become ints, others 4 decimals."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value == int(value) else round(value, 4)
    return value


# --- compiled plan ---------------------------------------------------------------------


@dataclass
class ItemPlan:
    """Everything the hot path needs about one item."""

    item: Item
    section: str
    check: Check
    allowed_zh: str
    allowed_en: str
    score: Callable[[Any], float | int | None] | None
    max: float
    required: bool
    relevant: Expression | None = None
    constraint: Expression | None = None
    calculate: Expression | None = None


@dataclass
class SectionPlan:
    """A section's items and how its score is formed."""

    section: Section
    items: list[ItemPlan]
    static_max: float
    scored: bool
    relevant: Expression | None = None
    scorers: list[tuple[ItemPlan, str, Any]] = field(default_factory=list)
    # precomputed for the hot path
    key: str = ""
    title_zh: str = ""
    title_en: str = ""
    max_text: str = ""
    max_out: Any = None
    sum_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None


@dataclass
class Plan:
    """A definition compiled once: item checks, scorers, expressions and rule steps."""

    items: dict[str, ItemPlan]
    sections: list[SectionPlan]
    steps: list[Step]
    item_expressions: dict[str, dict[str, Expression]]
    dynamic: bool
    calculated: list[ItemPlan] = field(default_factory=list)
    with_defaults: list[ItemPlan] = field(default_factory=list)
    veto_codes: frozenset[str] = frozenset()
    fast_choices: dict[str, frozenset[Any]] = field(default_factory=dict)
    has_relevance: bool = False
    level_dicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    required_ids: frozenset[str] = frozenset()
    has_constraints: bool = False
    default_ids: frozenset[str] = frozenset()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _make_check(item: Item) -> tuple[Check, str, str]:
    """Build a value checker for an item type; returns (check, allowed zh, allowed en)."""
    iid = item.id
    kind = item.type
    lo, hi = item.min, item.max
    if kind in ("single_choice", "boolean") and item.options or kind == "multiple_choice":
        values = [o.value for o in item.options]
        allowed = ", ".join(scalar_text(v) for v in values)
        allowed_zh = "、".join(scalar_text(v) for v in values)
        keys = {(type(v) is bool, v) for v in values}
        if kind == "multiple_choice":
            def check_multi(value: Any) -> tuple[Any, dict[str, Any] | None]:
                if not isinstance(value, list | tuple):
                    return None, answer_error(iid, "wrong_type", got=_type_name(value),
                                              expected=Bi(f"列表（可选 {allowed_zh}）",
                                                          f"a list of {allowed}"))
                bad = [v for v in value if not _hashable(v) or (type(v) is bool, v) not in keys]
                if bad:
                    return None, answer_error(iid, "not_options", value=bad,
                                              allowed=Bi(allowed_zh, allowed))
                if len(set(value)) != len(value):
                    return None, answer_error(iid, "duplicate_option", value=list(value))
                return list(value), None
            return check_multi, f"多选，可选 {allowed_zh}", f"a list of {allowed}"

        def check_choice(value: Any) -> tuple[Any, dict[str, Any] | None]:
            if _hashable(value) and (type(value) is bool, value) in keys:
                return value, None
            if isinstance(value, list | dict):
                return None, answer_error(iid, "wrong_type", got=_type_name(value),
                                          expected=Bi(f"单个值（{allowed_zh}）", f"one of {allowed}"))
            return None, answer_error(iid, "not_an_option", value=scalar_text(value)
                                      if _hashable(value) else value,
                                      allowed=Bi(allowed_zh, allowed))
        return check_choice, f"可选 {allowed_zh}", f"one of {allowed}"
    if kind == "boolean":
        def check_bool(value: Any) -> tuple[Any, dict[str, Any] | None]:
            if isinstance(value, bool):
                return value, None
            return None, answer_error(iid, "wrong_type", got=_type_name(value),
                                      expected=Bi("布尔值 true 或 false", "true or false"))
        return check_bool, "true 或 false", "true or false"
    if kind in ("integer", "count", "deduction", "decimal", "section_score"):
        integral = kind in ("integer", "count", "deduction")
        if kind in ("count", "deduction", "section_score") and lo is None:
            lo = 0
        if kind == "section_score" and hi is None:
            hi = item.max
        step = item.step
        what_zh = "整数" if integral else "数字"
        rng_zh = (f"{what_zh}" + (f"，{fmt(lo)} 至 {fmt(hi)}" if lo is not None and hi is not None
                                  else f"，不小于 {fmt(lo)}" if lo is not None
                                  else f"，不大于 {fmt(hi)}" if hi is not None else ""))
        rng_en = ("an integer" if integral else "a number") + (
            f" from {fmt(lo)} to {fmt(hi)}" if lo is not None and hi is not None
            else f" ≥ {fmt(lo)}" if lo is not None else f" ≤ {fmt(hi)}" if hi is not None else "")

        def check_number(value: Any) -> tuple[Any, dict[str, Any] | None]:
            if not _is_number(value) or (integral and not float(value).is_integer()):
                return None, answer_error(iid, "wrong_type", got=_type_name(value) if not
                                          _is_number(value) else fmt(value),
                                          expected=Bi(rng_zh, rng_en))
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return None, answer_error(
                    iid, "out_of_range", value=fmt(value),
                    minimum=fmt(lo) if lo is not None else "-∞",
                    maximum=fmt(hi) if hi is not None else "∞")
            if step and abs(value / step - round(value / step)) > 1e-9:
                return None, answer_error(iid, "not_multiple", value=fmt(value), step=fmt(step))
            return (int(value) if integral else value), None
        return check_number, rng_zh, rng_en
    if kind == "date":
        def check_date(value: Any) -> tuple[Any, dict[str, Any] | None]:
            if not isinstance(value, str):
                return None, answer_error(iid, "wrong_type", got=_type_name(value),
                                          expected=Bi("日期 YYYY-MM-DD", "a date YYYY-MM-DD"))
            try:
                _dt.date.fromisoformat(value)
            except ValueError:
                return None, answer_error(iid, "bad_date", value=value)
            return value, None
        return check_date, "日期 YYYY-MM-DD", "a date YYYY-MM-DD"
    many = kind in ("photo", "evidence")
    limit = item.max_length

    def check_text(value: Any) -> tuple[Any, dict[str, Any] | None]:
        if many and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value, None
        if not isinstance(value, str):
            return None, answer_error(iid, "wrong_type", got=_type_name(value),
                                      expected=Bi("文本或文本列表", "text or a list of texts")
                                      if many else Bi("文本", "text"))
        if limit is not None and len(value) > limit:
            return None, answer_error(iid, "too_long", length=len(value), maximum=limit)
        return value, None
    return check_text, "文本" if not many else "文件引用或其列表", "text"


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _make_score(item: Item) -> Callable[[Any], float | int | None] | None:
    if not item.is_scored:
        return None
    weight = item.weight
    if item.type == "multiple_choice":
        points = {o.value: (o.points or 0) for o in item.options}
        return lambda v: sum(points[x] for x in v) * weight if weight != 1 else sum(
            points[x] for x in v)
    if item.options:
        table = {(type(o.value) is bool, o.value): o.points for o in item.options}
        if weight == 1:
            return lambda v: table[(type(v) is bool, v)]
        return lambda v: (table[(type(v) is bool, v)] or 0) * weight
    if item.type == "deduction":
        full, per = float(item.points or 0), float(item.per or 0)
        return lambda v: max(full - v * per, 0.0) * weight
    return lambda v: v * weight if weight != 1 else v


def _is_identity(ip: ItemPlan) -> bool:
    """Whether an item's score is its answer itself (integer options scoring their value)."""
    item = ip.item
    return (item.type == "single_choice" and bool(item.options) and item.weight == 1
            and ip.calculate is None and ip.relevant is None
            and not item.not_applicable_allowed and all(
                type(o.value) is int and type(o.points) is int and o.points == o.value
                for o in item.options))


def _identity_getter(definition: Definition, plans: list[ItemPlan],
                     scorers: list[tuple[ItemPlan, str, Any]]
                     ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]] | None:
    """For an assessment section whose items all score their answer (GB/T 42195, Barthel):
    a getter of every item's value at once; KeyError when one is missing (then the item loop
    runs). Sections with anything else (not-applicable, skip logic, findings) return None."""
    if definition.kind != "assessment" or not scorers or len(scorers) != len(plans):
        return None
    if not all(_is_identity(p) for p in plans):
        return None
    getter = operator.itemgetter(*(iid for _, iid, _ in scorers))
    if len(scorers) == 1:
        return lambda values: (getter(values),)
    return getter


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
        sections.append(SectionPlan(
            section, plans, top_out, scored, rel, scorers, key=f"section.{section.id}",
            title_zh=section.title.zh, title_en=section.title.get("en"),
            max_text=fmt(top_out), max_out=num(top_out),
            sum_values=_identity_getter(definition, plans, scorers),
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
        has_relevance=any(p.relevant is not None for p in items.values())
        or any(s.relevant is not None for s in sections),
        level_dicts={lv.code: _level_dict_uncached(lv) for lv in definition.levels},
        required_ids=frozenset(p.item.id for p in items.values() if p.required),
        has_constraints=any(p.constraint is not None for p in items.values()),
        default_ids=frozenset(p.item.id for p in items.values() if p.item.default is not None),
    )


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
    """Parse YAML text (safe loader only) into a Definition; errors name the source."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise DefinitionError([definition_error(
            source, None, "yaml", position=position, detail=str(getattr(exc, "problem", exc)))
        ]) from None
    return parse_definition(data, source=source)


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
    fast = plan.fast_choices
    for key, value in answers.items():
        if type(value) is int:
            table = fast.get(key)
            if table is not None and value in table:
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
    for sp in plan.sections if plan.has_relevance else ():
        section_on = sp.relevant is None or bool(sp.relevant.evaluate(values, facts))
        for ip in sp.items:
            iid = ip.item.id
            shown = section_on and (ip.relevant is None or bool(ip.relevant.evaluate(values,
                                                                                    facts)))
            if not shown:
                hidden.add(iid)
                if answers.get(iid) is not None and iid in values:
                    warnings.append((f"{iid} 不适用于当前作答（跳题），其答案不计",
                                     f"{iid} is skipped by the skip logic; answer ignored"))
                values.pop(iid, None)
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
    _required_sections(plan, direct, partial, errors, hidden_sections={
        sp.section.id for sp in plan.sections if sp.items and all(ip.item.id in hidden for ip in sp.items)})
    return values, dict(facts), _named(plan, errors), na, direct, warnings


def _required_sections(plan: Plan, direct: set[str], partial: bool, errors: list[dict[str, Any]],
                       hidden_sections: set[str] | None = None) -> None:
    """A required section with no items must be entered as a score (its items' own `required`
    covers the others): without it a scheme would grade an empty answer set."""
    if partial:
        return
    for sp in plan.sections:
        section = sp.section
        if not (section.required and sp.scored and not sp.items) or section.id in direct:
            continue
        if hidden_sections and section.id in hidden_sections:
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


# --- totals ----------------------------------------------------------------------------


def _total_sum(state: State) -> tuple[float | None, float]:
    secs = [s for s in state.sections.values() if s.get("counts", True)]
    return sum(s["score"] for s in secs), sum(s["max"] for s in secs)


def _total_weighted(state: State) -> tuple[float | None, float]:
    total = 0.0
    top = 0.0
    for sp in state.definition.sections:
        sec = state.sections.get(sp.id)
        if sec is None:
            continue
        total += sec["score"] * sp.weight
        top += sec["max"] * sp.weight
    return total, top


def _total_none(state: State) -> tuple[float | None, float]:
    return None, 0.0


TOTAL_METHODS: dict[str, Callable[[State], tuple[float | None, float]]] = {
    "sum": _total_sum,
    "weighted_sum": _total_weighted,
    "none": _total_none,
}
"""Registered ways to form the total from section scores (`total.method`)."""


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


def _level_dict_uncached(level: Any) -> dict[str, Any]:
    code = level.code
    out: dict[str, Any] = {"code": code, "label": level.label.zh, "label_en": level.label.get("en")}
    if level.stars is not None:
        out["stars"] = level.stars
    if level.medal is not None:
        out["medal"] = level.medal
    return out


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
                    text = fmt(total)
                    explain((f"{sp.title_zh} {text}/{sp.max_text}",
                             f"{sp.title_en} {text}/{sp.max_text}"))
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
