"""Reading a definition spreadsheet (the format is described in instruments/xlsx.py): every
problem is collected with its sheet, row and column, and the engine's own checks of the
assembled definition are placed back on their cells too."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from scoring import Definition, DefinitionError, parse_definition

from .xlsx import (
    BOOL_KEYS,
    BOOL_WORDS,
    IGNORED_COLUMNS,
    LIST_SHEETS,
    NATIVE_TYPES,
    NUMBER_KEYS,
    SHEET_LISTS,
    SKIPPED_TYPES,
    TEXT_KEYS,
    XLSFORM_TO_TYPE,
)
from .yamlio import dump_data


class _Reader:
    """Turns sheets into a definition mapping, remembering which cell each value came from."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[dict[str, Any]] = []
        self.cells: dict[str, tuple[str, int, dict[str, str]]] = {}  # path → (sheet, row, columns)

    def error(self, sheet: str, row: int | None, column: str | None, zh: str, en: str,
              code: str = "sheet", item: str | None = None) -> None:
        self.errors.append({"source": self.source, "sheet": sheet, "row": row, "column": column,
                            "item": item, "code": code, "message": zh, "message_en": en})

    def table(self, wb: Any, name: str) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
        """(row number, values by header, column letter by header) for every non-empty row."""
        if name not in wb.sheetnames:
            return []
        rows = list(wb[name].iter_rows(values_only=True))
        if not rows:
            return []
        headers = [str(h).strip() if h is not None else "" for h in rows[0]]
        letters = {h: get_column_letter(i + 1) for i, h in enumerate(headers) if h}
        out = []
        for number, values in enumerate(rows[1:], start=2):
            data = {h: v for h, v in zip(headers, values, strict=False)
                    if h and v is not None and not (isinstance(v, str) and not v.strip())}
            if data:
                out.append((number, data, letters))
        return out

    def unflatten(self, sheet: str, number: int, data: dict[str, Any], letters: dict[str, str],
                  renames: dict[str, str] | None = None, skip: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
        out: dict[str, Any] = {}
        for column, value in data.items():
            if column in skip or column in IGNORED_COLUMNS or column.startswith(("media::", "body::")):
                continue
            if isinstance(value, str):
                value = value.strip()
            if column.endswith(":json"):
                key = column[:-5]
                try:
                    out[(renames or {}).get(key, key)] = json.loads(value) if isinstance(value, str) else value
                except json.JSONDecodeError as exc:
                    self.error(sheet, number, letters[column], f"不是有效的 JSON：{exc.msg}",
                               f"not valid JSON: {exc.msg}")
                continue
            elif "::" in column:
                key, lang = column.split("::", 1)
                if lang not in ("zh", "en"):
                    self.error(sheet, number, letters[column], f"未知的语言 {lang}；只支持 zh 和 en",
                               f"unknown language {lang}; only zh and en")
                    continue
                key = (renames or {}).get(key, key)
                text = out.setdefault(key, {})
                if isinstance(text, dict):
                    text[lang] = str(value)
                continue
            else:
                key = column
            key = (renames or {}).get(key, key)
            if key in TEXT_KEYS and isinstance(value, str):
                out.setdefault(key, {})["zh"] = value
                continue
            if key in BOOL_KEYS and not isinstance(value, bool):
                word = str(value).strip().lower()
                if word not in BOOL_WORDS:
                    self.error(sheet, number, letters[column], f"{column} 应为 yes 或 no，收到 {value}",
                               f"{column} must be yes or no, got {value}")
                    continue
                value = BOOL_WORDS[word]
            elif key in NUMBER_KEYS and isinstance(value, str) and not (sheet == "vetoes" and key == "code"):
                if not re.fullmatch(r"-?\d+(\.\d+)?", value):
                    self.error(sheet, number, letters[column], f"{column} 应为数字，收到 {value}",
                               f"{column} must be a number, got {value}")
                    continue
                value = float(value) if "." in value else int(value)  # a number typed as text
            elif isinstance(value, float) and value.is_integer() and key in NUMBER_KEYS:
                value = int(value)
            out[key] = value
        for key, value in list(out.items()):
            if isinstance(value, dict) and set(value) == {"en"}:
                self.error(sheet, number, letters.get(f"{key}::en"), f"{key} 缺少中文（{key}::zh）",
                           f"{key} has no Chinese text ({key}::zh)")
                out[key] = {"zh": value["en"], "en": value["en"]}
        return out

    def remember(self, path: str, sheet: str, number: int, letters: dict[str, str]) -> None:
        self.cells[path] = (sheet, number, letters)


def _expression(value: Any) -> Any:
    return re.sub(r"\$\{([^}]+)\}", r"\1", value) if isinstance(value, str) else value


def _choices(reader: _Reader, wb: Any) -> dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]]:
    lists: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
    for number, data, letters in reader.table(wb, "choices"):
        name = data.get("list_name")
        if name is None:
            reader.error("choices", number, letters.get("list_name", "A"), "缺少 list_name", "list_name missing")
            continue
        if data.get("name") is None:
            reader.error("choices", number, letters.get("name", "B"), "选项缺少 name（取值）",
                         "the choice has no name (value)")
            continue
        lists.setdefault(str(name), []).append((number, data, letters))
    return lists


def _options(reader: _Reader, item_id: str, path: str, rows: list[Any]) -> list[dict[str, Any]]:
    options = []
    scored = [r for r in rows if r[1].get("score") is not None]
    seen: set[Any] = set()
    for index, (number, data, letters) in enumerate(rows):
        option = reader.unflatten("choices", number, data, letters, {"name": "value"}, skip={"list_name"})
        value = option.get("value")
        if isinstance(value, float) and value.is_integer():
            option["value"] = value = int(value)
        if value in seen:
            reader.error("choices", number, letters.get("name"), f"{item_id}：选项取值 {value} 重复",
                         f"{item_id}: choice value {value} repeats", code="duplicate_id", item=item_id)
        seen.add(value)
        if scored and option.get("score") is None and not isinstance(value, int | float):
            reader.error("choices", number, letters.get("score") or letters.get("name"),
                         f"{item_id}：选项 {value} 没有分值（同一列表的其他选项有）",
                         f"{item_id}: choice {value} has no score (the others in its list have)",
                         code="bad_option", item=item_id)
        reader.remember(f"{path}.options[{index}]", "choices", number, letters)
        options.append(option)
    return options


def _survey(reader: _Reader, wb: Any, data: dict[str, Any]) -> None:
    lists = _choices(reader, wb)
    section_rows = {str(d.get("name")): (n, d, lt) for n, d, lt in reader.table(wb, "sections") if d.get("name")}
    sections: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    names: dict[str, int] = {}
    title = data.get("title") or {"zh": data.get("id", "")}
    for number, row, letters in reader.table(wb, "survey"):
        kind = str(row.get("type", "")).strip()
        words = kind.split()
        if words and words[0] in ("begin_group", "end_group", "begin_repeat", "end_repeat"):
            words = words[0].split("_") + words[1:]
        if not kind:
            reader.error("survey", number, letters.get("type", "A"), "缺少 type", "type missing")
            continue
        if words[:2] == ["begin", "group"]:
            name = str(row.get("name") or f"group{len(sections) + 1}")
            current = {"id": name, **reader.unflatten("survey", number, row, letters, {"name": "id", "label": "title"},
                                                      skip={"type", "name"})}
            current.setdefault("title", {"zh": name})
            if name in section_rows:
                n, d, lt = section_rows[name]
                current.update(reader.unflatten("sections", n, d, lt, {"name": "id", "label": "title"}))
            current["items"] = []
            reader.remember(f"sections[{len(sections)}]", "sections" if name in section_rows else "survey",
                            section_rows[name][0] if name in section_rows else number,
                            section_rows[name][2] if name in section_rows else letters)
            sections.append(current)
            continue
        if words[:2] == ["end", "group"]:
            current = None
            continue
        if words[0] in SKIPPED_TYPES or words[:2] == ["begin", "repeat"] or words[:2] == ["end", "repeat"]:
            continue
        if current is None:
            current = {"id": "main", "title": title, "items": []}
            reader.remember(f"sections[{len(sections)}]", "survey", number, letters)
            sections.append(current)
        base = XLSFORM_TO_TYPE.get(words[0], words[0])
        if words[0] == "calculate":
            base = "decimal"
        if base not in NATIVE_TYPES:
            reader.error("survey", number, letters.get("type", "A"), f"不支持的题型 {kind}",
                         f"unsupported question type {kind}", code="schema", item=row.get("name"))
            continue
        item = reader.unflatten("survey", number, row, letters,
                                {"name": "id", "label": "title", "calculation": "calculate"}, skip={"type"})
        item["type"] = base
        item_id = str(item.get("id") or "")
        if not item_id:
            reader.error("survey", number, letters.get("name", "B"), "缺少 name（题目编号）", "name (item id) missing")
            continue
        item["id"] = item_id
        if item_id in names:
            reader.error("survey", number, letters.get("name", "B"), f"题目编号 {item_id} 重复（另见第 {names[item_id]} 行）",
                         f"item id {item_id} repeats (see row {names[item_id]})", code="duplicate_id", item=item_id)
            continue
        names[item_id] = number
        item.setdefault("title", {"zh": item_id})
        for key in ("relevant", "constraint", "calculate"):
            if key in item:
                item[key] = _expression(item[key])
        path = f"sections[{len(sections) - 1}].items[{len(current['items'])}]"
        reader.remember(path, "survey", number, letters)
        if base in ("single_choice", "multiple_choice"):
            list_name = words[1] if len(words) > 1 else ""
            if list_name not in lists:
                reader.error("survey", number, letters.get("type", "A"), f"选项列表 {list_name or '（未写）'} 不在 choices 表中",
                             f"choice list {list_name or '(none)'} is not on the choices sheet", item=item_id)
                continue
            item["options"] = _options(reader, item_id, path, lists[list_name])
        current["items"].append(item)
    data["sections"] = sections


def _settings(reader: _Reader, wb: Any) -> dict[str, Any]:
    rows = reader.table(wb, "settings")
    if not rows:
        reader.error("settings", None, None, "缺少 settings 表（form_id、version、title）",
                     "the settings sheet is missing (form_id, version, title)")
        return {}
    number, row, letters = rows[0]
    data = reader.unflatten("settings", number, row, letters,
                            {"form_id": "id", "form_title": "title"})
    reader.remember("", "settings", number, letters)
    for key, letter_key in (("id", "form_id"), ("version", "version")):
        if key not in data:
            reader.error("settings", number, letters.get(letter_key), f"settings 缺少 {letter_key}",
                         f"settings has no {letter_key}")
    if isinstance(data.get("version"), float | int):
        data["version"] = str(int(data["version"])) if float(data["version"]).is_integer() else str(data["version"])
    if isinstance(data.get("id"), str) or "id" not in data:
        data.setdefault("kind", "assessment")
    return data


def _rest(reader: _Reader, wb: Any, data: dict[str, Any]) -> None:
    levels: list[dict[str, Any]] = []
    scales: dict[str, list[dict[str, Any]]] = {}
    for number, row, letters in reader.table(wb, "levels"):
        level = reader.unflatten("levels", number, row, letters, skip={"scale"})
        scale = row.get("scale")
        target = scales.setdefault(str(scale), []) if scale else levels
        reader.remember(f"scales.{scale}[{len(target)}]" if scale else f"levels[{len(target)}]",
                        "levels", number, letters)
        target.append(level)
    if levels:
        data["levels"] = levels
    if scales:
        data["scales"] = scales
    policies = {}
    for number, row, letters in reader.table(wb, "policies"):
        policy = reader.unflatten("policies", number, row, letters, skip={"name"})
        name = str(row.get("name", ""))
        reader.remember(f"policies.{name}", "policies", number, letters)
        policies[name] = policy
    if policies:
        data["policies"] = policies
    rules: list[dict[str, Any]] = []
    numbers: dict[int, int] = {}
    for number, row, letters in reader.table(wb, "rules"):
        rule = reader.unflatten("rules", number, row, letters, skip={"rule"})
        key = row.get("rule", len(rules) + 1)
        numbers[int(key) if isinstance(key, int | float) or str(key).isdigit() else -1] = len(rules)
        reader.remember(f"rules[{len(rules)}]", "rules", number, letters)
        rules.append(rule)
    for sheet, key in SHEET_LISTS.items():
        for number, row, letters in reader.table(wb, sheet):
            ref = row.get("rule")
            index = numbers.get(int(ref)) if isinstance(ref, int | float) or str(ref).isdigit() else None
            if index is None:
                reader.error(sheet, number, letters.get("rule", "A"), f"rule 列应为 rules 表中的规则编号，收到 {ref}",
                             f"the rule column must be a rule number from the rules sheet, got {ref}")
                continue
            elements = rules[index].setdefault(key, [])
            reader.remember(f"rules[{index}].{key}[{len(elements)}]", sheet, number, letters)
            elements.append(reader.unflatten(sheet, number, row, letters, skip={"rule"}))
    if rules:
        data["rules"] = rules


def _place(reader: _Reader, error: dict[str, Any]) -> dict[str, Any]:
    def path_of(cell: tuple[str, int, dict[str, str]]) -> str | None:
        return next((p for p, c in reader.cells.items() if c is cell), None)

    """Put an engine error on the sheet, row and column of the value it names."""
    field = str(error.get("field") or "")
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", field)
    best: tuple[str, int, dict[str, str]] | None = reader.cells.get("")
    rest: list[str] = parts
    for cut in range(len(parts), 0, -1):
        path = "".join(p if p.startswith("[") else f".{p}" for p in parts[:cut]).lstrip(".")
        if path in reader.cells:
            best, rest = reader.cells[path], parts[cut:]
            break
    placed = {**error}
    if best is not None and rest and rest[0] in LIST_SHEETS and path_of(best) is not None:
        first = reader.cells.get(f"{path_of(best)}.{rest[0]}[0]")
        if first is not None:
            best, rest = first, ["min"] if rest[0] == "bands" else rest[1:]
    if best is not None:
        sheet, number, letters = best
        placed["sheet"], placed["row"] = sheet, number
        key = next((p for p in rest if not p.startswith("[")), None)
        if key is not None:
            name = {"id": "name", "title": "label", "calculate": "calculation", "value": "name",
                    "options": "type", "items": "name"}.get(key, key)
            placed["column"] = letters.get(name) or letters.get(f"{name}::zh") or letters.get(f"{name}:json")
        placed["column"] = placed.get("column") or next(iter(letters.values()), None)
    placed.setdefault("column", None)
    return placed


def read_xlsx(data: bytes, source: str = "<upload>") -> tuple[Definition, str]:
    """(definition, YAML source) from XLSX bytes; DefinitionError lists every problem with its cell."""
    reader = _Reader(source)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise DefinitionError([{"source": source, "sheet": None, "row": None, "column": None, "item": None,
                                "code": "yaml", "message": f"无法读取电子表格：{exc}",
                                "message_en": f"cannot read the spreadsheet: {exc}"}]) from None
    definition_data = _settings(reader, wb)
    _survey(reader, wb, definition_data)
    _rest(reader, wb, definition_data)
    wb.close()
    errors = list(reader.errors)
    definition: Definition | None = None
    try:
        definition = parse_definition(definition_data, source=source)
    except DefinitionError as exc:
        errors.extend(_place(reader, e) for e in exc.errors)
    if errors or definition is None:
        raise DefinitionError(errors)
    return definition, dump_data(definition_data)


__all__ = ["read_xlsx"]
