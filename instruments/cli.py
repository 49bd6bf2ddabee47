"""Command line: `score`, `rate` and the `instruments` group (registered by the app)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from scoring import AnswerError, Definition, score

from . import UnknownDefinitionError, builtin, get, load_file, validate_file


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(errors: list[dict[str, Any]]) -> None:
    _echo({"errors": errors})
    sys.exit(2)


def _read_input(source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        with click.open_file(source, "r", encoding="utf-8") as fh:  # "-" is stdin
            text = fh.read()
        data = json.loads(text)
    except OSError as exc:
        _fail([{"item": None, "message": f"无法读取输入文件：{exc}",
                "message_en": f"cannot read the input: {exc}"}])
    except json.JSONDecodeError as exc:
        _fail([{"item": None, "message": f"输入不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列"
                f"，{exc.msg}", "message_en": f"input is not valid JSON: {exc}"}])
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict) or \
            not isinstance(data.get("facts") or {}, dict):
        _fail([{"item": None, "message": '输入应为 {"answers": {...}, "facts": {...}}',
                "message_en": 'input must be {"answers": {...}, "facts": {...}}'}])
    unknown = sorted(set(data) - {"answers", "facts"})
    if unknown:
        _fail([{"item": k, "message": f"未知的顶层键 {k}；只允许 answers 和 facts",
                "message_en": f"unknown top-level key {k}; only answers and facts"}
               for k in unknown])
    return data.get("answers") or {}, data.get("facts") or {}


def _definition(definition_id: str, kind: str) -> Definition:
    try:
        definition = get(definition_id)
    except UnknownDefinitionError as exc:
        _fail([{"item": None, "message": exc.message, "message_en": exc.message_en}])
        raise  # unreachable: _fail exits
    if definition.kind != kind:
        wanted = "评估工具" if kind == "assessment" else "评定方案"
        _fail([{"item": None, "message": f"{definition_id} 不是{wanted}",
                "message_en": f"{definition_id} is not an {kind}" if kind == "assessment"
                else f"{definition_id} is not a rating scheme"}])
    return definition


def _run(definition_id: str, source: str, kind: str) -> None:
    definition = _definition(definition_id, kind)
    answers, facts = _read_input(source)
    try:
        result = score(definition, answers, facts)
    except AnswerError as exc:
        _fail(exc.errors)
    _echo(result.to_dict())


@click.command("score")
@click.argument("instrument")
@click.argument("answers_json", metavar="ANSWERS_JSON")
def score_command(instrument: str, answers_json: str) -> None:
    """Score an assessment: INSTRUMENT id and ANSWERS_JSON file ('-' reads stdin)."""
    _run(instrument, answers_json, "assessment")


@click.command("rate")
@click.argument("scheme")
@click.argument("findings_json", metavar="FINDINGS_JSON")
def rate_command(scheme: str, findings_json: str) -> None:
    """Rate a facility: SCHEME id and FINDINGS_JSON file ('-' reads stdin)."""
    _run(scheme, findings_json, "rating")


@click.group("instruments")
def instruments_group() -> None:
    """Built-in instruments and rating schemes."""


@instruments_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """List the built-in packs."""
    rows = [
        {"id": d.id, "version": d.version, "kind": d.kind, "title": d.title.zh,
         "title_en": d.title.en, "example": d.example}
        for d in builtin().values()
    ]
    if as_json:
        _echo(rows)
        return
    for row in rows:
        mark = "  [示例 example]" if row["example"] else ""
        click.echo(f"{row['id']:<16} {row['version']:<4} {row['kind']:<10} {row['title']}{mark}")


@instruments_group.command("show")
@click.argument("definition_id")
def show_command(definition_id: str) -> None:
    """Show one pack: sections, items, levels and policy settings, as JSON."""
    try:
        definition = get(definition_id)
    except UnknownDefinitionError as exc:
        _fail([{"item": None, "message": exc.message, "message_en": exc.message_en}])
        return
    data = definition.model_dump(mode="json", exclude_none=True, exclude={"rules"})
    data["rules"] = [r.model_dump(mode="json", exclude_none=True) for r in definition.rules]
    data["skip_logic"] = definition.skip_logic()
    _echo(data)


@instruments_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def validate_command(path: str) -> None:
    """Validate a pack file; print every problem (file, item, field, position) and exit 2."""
    errors = validate_file(path)
    if errors:
        _fail(errors)
    definition = load_file(path)
    _echo({"ok": True, "id": definition.id, "version": definition.version,
           "kind": definition.kind, "items": len(definition.items)})


__all__ = ["instruments_group", "rate_command", "score_command"]

