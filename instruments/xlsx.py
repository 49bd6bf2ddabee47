"""Definitions as spreadsheets, following XLSForm where it has words for the thing.

Sheets: `settings` (one header row and one value row), `survey` (items, with `begin group` /
`end group` rows for sections), `choices` (`list_name`, `name`, `label::zh`, `label::en`,
`score`), and for what XLSForm has no words for: `sections` (maxima, weights, required),
`levels`, `policies`, `rules` (one row per rule, in order) with the rules' lists in `bands`,
`adjustments`, `vetoes`, `floors`, `rows` and `cuts` (column `rule` = the rule's row number in
`rules`). Bilingual text is two columns, `x::zh` and `x::en`; a value that is neither text nor a
number is JSON in a column named `x:json`. A plain XLSForm questionnaire (no scoring sheets)
imports as an unscored questionnaire.

This module holds the format's vocabulary and the writer; `instruments/xlsx_read.py` reads a
workbook back, collecting every problem with its sheet, row and column.
"""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from scoring import Definition

TEXT_KEYS = {"title", "label", "hint", "constraint_message", "description"}
BOOL_WORDS = {"yes": True, "true": True, "true()": True, "1": True, "是": True, "y": True,
              "no": False, "false": False, "false()": False, "0": False, "否": False, "n": False}
BOOL_KEYS = {"required", "not_applicable_allowed", "scored", "example", "allow_gaps", "allow_overlaps",
             "warn_on_conflict", "lower_is_better", "enabled"}
NUMBER_KEYS = {"score", "min", "max", "step", "max_length", "points", "per", "weight", "code", "stars",
               "normalise_to", "validity_years", "below", "by", "cap", "grade", "upto", "min_fraction",
               "section_floor", "result", "min_peers", "level"}
TYPE_TO_XLSFORM = {"single_choice": "select_one", "multiple_choice": "select_multiple",
                   "photo": "image", "evidence": "file"}
XLSFORM_TO_TYPE = {v: k for k, v in TYPE_TO_XLSFORM.items()} | {"select_one": "single_choice"}
NATIVE_TYPES = {"integer", "decimal", "boolean", "date", "text", "count", "section_score", "deduction",
                "signature", "single_choice", "multiple_choice", "photo", "evidence"}
SKIPPED_TYPES = {"note", "start", "end", "today", "deviceid", "username", "simserial", "subscriberid",
                 "phonenumber", "audit", "calculate_here"}
IGNORED_COLUMNS = {"appearance", "read_only", "choice_filter", "parameters", "repeat_count", "image",
                   "audio", "video", "guidance_hint", "required_message", "trigger", "media::image",
                   "default_language", "instance_name", "style", "public_key", "submission_url",
                   "allow_choice_duplicates", "form_version"}
LIST_SHEETS = {"bands": "bands", "adjustments": "adjustments", "codes": "vetoes", "floors": "floors",
               "rows": "rows", "cuts": "cuts"}
SHEET_LISTS = {v: k for k, v in LIST_SHEETS.items()}
ITEM_RENAMES = {"id": "name", "title": "label", "calculate": "calculation"}
ITEM_FIRST = ["type", "name", "label::zh", "label::en", "hint::zh", "hint::en", "required", "relevant",
              "constraint", "constraint_message::zh", "constraint_message::en", "calculation"]


# --- writing ------------------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"zh", "en"} and \
        all(isinstance(v, str) for v in value.values())


def flatten(data: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, Any]:
    """One mapping as spreadsheet cells: text → x::zh/x::en, scalars as they are, the rest JSON."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = (renames or {}).get(key, key)
        if value is None:
            continue
        if _is_text(value):
            out[f"{name}::zh"] = value.get("zh", "")
            if value.get("en"):
                out[f"{name}::en"] = value["en"]
        elif isinstance(value, str) and key in TEXT_KEYS:
            out[f"{name}::zh"] = value
        elif isinstance(value, bool | int | float | str):
            out[name] = value
        else:
            out[f"{name}:json"] = json.dumps(value, ensure_ascii=False)
    return out


def _sheet(wb: Workbook, title: str, rows: list[dict[str, Any]], first: list[str]) -> None:
    ws = wb.create_sheet(title)
    columns = [c for c in first if any(c in r for r in rows) or c in first[:2]]
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(column) + 4))


def workbook_rows(raw: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The sheets' rows for a definition mapping (as loaded from YAML)."""
    raw = json.loads(json.dumps(raw, ensure_ascii=False, default=str))
    survey: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    for section in raw.get("sections", []):
        items = section.pop("items", [])
        sections.append(flatten(section, {"id": "name", "title": "label"}))
        group = {"type": "begin group", "name": section["id"]}
        group.update({k: v for k, v in flatten({"title": section.get("title")}, ITEM_RENAMES).items()})
        survey.append(group)
        for item in items:
            options = item.pop("options", None)
            kind = item.pop("type")
            xls_type = TYPE_TO_XLSFORM.get(kind, kind)
            if options is not None:
                xls_type = f"{xls_type} {item['id']}"
                for option in options:
                    choice = {"list_name": item["id"], "name": option.get("value")}
                    choice.update(flatten({k: v for k, v in option.items() if k != "value"}))
                    choices.append(choice)
            survey.append({"type": xls_type, **flatten(item, ITEM_RENAMES)})
        survey.append({"type": "end group", "name": section["id"]})
    levels = [{"scale": None, **flatten(level)} for level in raw.pop("levels", [])]
    for scale, scale_levels in raw.pop("scales", {}).items():
        levels.extend({"scale": scale, **flatten(level)} for level in scale_levels)
    policies = [{"name": name, **flatten(policy)} for name, policy in raw.pop("policies", {}).items()]
    rules: list[dict[str, Any]] = []
    lists: dict[str, list[dict[str, Any]]] = {sheet: [] for sheet in SHEET_LISTS}
    for number, rule in enumerate(raw.pop("rules", []), start=1):
        plain = {}
        for key, value in rule.items():
            sheet = LIST_SHEETS.get(key)
            if sheet and isinstance(value, list) and all(isinstance(v, dict) for v in value):
                lists[sheet].extend({"rule": number, **flatten(element)} for element in value)
            else:
                plain[key] = value
        rules.append({"rule": number, **flatten(plain)})
    raw.pop("sections", None)
    settings = flatten({"form_id": raw.pop("id", None), "version": raw.pop("version", None),
                        "title": raw.pop("title", None), **raw})
    sheets = {"settings": [settings], "survey": survey, "choices": choices, "sections": sections,
              "levels": levels, "policies": policies, "rules": rules}
    sheets.update({sheet: rows for sheet, rows in lists.items() if rows})
    return sheets


def write_xlsx(definition: Definition) -> bytes:
    """The definition as an XLSX workbook that reads back to an equal definition."""
    raw = definition._raw if definition._raw is not None else definition.model_dump(
        mode="json", exclude_none=True)
    return rows_to_xlsx(workbook_rows(dict(raw)))


def rows_to_xlsx(sheets: dict[str, list[dict[str, Any]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    firsts = {"settings": ["form_id", "version", "title::zh", "title::en", "kind"],
              "survey": ITEM_FIRST, "choices": ["list_name", "name", "label::zh", "label::en", "score"],
              "sections": ["name", "label::zh", "label::en", "max"], "levels": ["scale", "code", "label::zh"],
              "policies": ["name", "value"], "rules": ["rule", "type", "id"]}
    for title, rows in sheets.items():
        _sheet(wb, title, rows, firsts.get(title, ["rule"]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

__all__ = ["rows_to_xlsx", "workbook_rows", "write_xlsx"]
