"""What changes between two versions of a definition: items, options, scores, sections, levels,
bands and other rules, policies. Shown to an administrator before publishing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scoring import Definition, Item


@dataclass(frozen=True)
class Change:
    """One difference: what (a path a person can read), and the text before and after."""

    kind: str  # "added" | "removed" | "changed"
    what: str
    before: str
    after: str


def _options(item: Item) -> str:
    return "；".join(f"{o.label.zh if o.label else o.value}={o.points if o.points is not None else '-'}"
                    for o in item.options)


def _item_facts(item: Item) -> dict[str, str]:
    return {"题目": item.title.zh, "题型": item.type, "选项与分值": _options(item),
            "必填": str(item.required), "显示条件": item.relevant or "", "校验": item.constraint or "",
            "计算": item.calculate or "", "满分": f"{item.max_score:g}"}


def _compare(changes: list[Change], what: str, before: dict[str, str], after: dict[str, str]) -> None:
    for key in sorted(set(before) | set(after), key=lambda k: list({**before, **after}).index(k)):
        if before.get(key, "") != after.get(key, ""):
            changes.append(Change("changed", f"{what} {key}", before.get(key, ""), after.get(key, "")))


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff(old: Definition | None, new: Definition) -> list[Change]:
    """The differences from `old` (None: everything is new) to `new`, in definition order."""
    changes: list[Change] = []
    if old is None:
        return [Change("added", f"{item.id} {item.title.zh}", "", _options(item) or item.type)
                for item in new.items.values()]
    if old.title != new.title:
        changes.append(Change("changed", "标题", old.title.zh, new.title.zh))
    old_items, new_items = old.items, new.items
    for item_id, item in new_items.items():
        if item_id not in old_items:
            changes.append(Change("added", f"{item_id} {item.title.zh}", "", _options(item) or item.type))
        else:
            _compare(changes, item_id, _item_facts(old_items[item_id]), _item_facts(item))
    for item_id, item in old_items.items():
        if item_id not in new_items:
            changes.append(Change("removed", f"{item_id} {item.title.zh}", _options(item) or item.type, ""))
    old_sections = {s.id: s for s in old.sections}
    for section in new.sections:
        before = old_sections.get(section.id)
        facts = {"名称": section.title.zh, "满分": "" if section.max is None else f"{section.max:g}",
                 "权重": f"{section.weight:g}", "必填": str(section.required)}
        if before is None:
            changes.append(Change("added", f"分项 {section.id}", "", section.title.zh))
            continue
        _compare(changes, f"分项 {section.id}", {
            "名称": before.title.zh, "满分": "" if before.max is None else f"{before.max:g}",
            "权重": f"{before.weight:g}", "必填": str(before.required)}, facts)
    for section_id in old_sections.keys() - {s.id for s in new.sections}:
        changes.append(Change("removed", f"分项 {section_id}", old_sections[section_id].title.zh, ""))
    _compare(changes, "等级", {str(lv.code): lv.label.zh for lv in old.levels},
             {str(lv.code): lv.label.zh for lv in new.levels})
    old_rules = [r.model_dump(mode="json", exclude_none=True) for r in old.rules]
    new_rules = [r.model_dump(mode="json", exclude_none=True) for r in new.rules]
    for index in range(max(len(old_rules), len(new_rules))):
        before = old_rules[index] if index < len(old_rules) else None
        after = new_rules[index] if index < len(new_rules) else None
        name = f"规则 {index + 1} {(after or before or {}).get('type', '')}"
        if before is None and after is not None:
            changes.append(Change("added", name, "", _dump(after)))
        elif after is None and before is not None:
            changes.append(Change("removed", name, _dump(before), ""))
        elif before is not None and after is not None:
            _compare(changes, name, {k: _dump(v) for k, v in before.items()},
                     {k: _dump(v) for k, v in after.items()})
    _compare(changes, "政策", {k: _dump(p.value) for k, p in old.policies.items()},
             {k: _dump(p.value) for k, p in new.policies.items()})
    return changes


__all__ = ["Change", "diff"]
