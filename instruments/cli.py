"""Command line: `score`, `rate` (one answer set or a JSONL batch) and the `instruments` group.

Inside the app (`yiyang ...`) definitions come from the registry, drafts included, so an
imported draft can be tried on a file of cases at once; without a database (`python -m
instruments`, or `yiyang score` before `yiyang init`) the shipped packs answer.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from scoring import AnswerError, Definition, score

from . import UnknownDefinitionError, load_file, validate_file
from .batch import run_batch
from .clidb import registry_session


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fail(errors: list[dict[str, Any]]) -> None:
    echo_json({"errors": errors})
    sys.exit(2)


def _read_input(source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        with click.open_file(source, "r", encoding="utf-8") as fh:  # "-" is stdin
            text = fh.read()
        data = json.loads(text)
    except OSError as exc:
        fail([{"item": None, "message": f"无法读取输入文件：{exc}",
               "message_en": f"cannot read the input: {exc}"}])
    except json.JSONDecodeError as exc:
        fail([{"item": None, "message": f"输入不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列"
               f"，{exc.msg}", "message_en": f"input is not valid JSON: {exc}"}])
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict) or \
            not isinstance(data.get("facts") or {}, dict):
        fail([{"item": None, "message": '输入应为 {"answers": {...}, "facts": {...}}',
               "message_en": 'input must be {"answers": {...}, "facts": {...}}'}])
    unknown = sorted(set(data) - {"answers", "facts"})
    if unknown:
        fail([{"item": k, "message": f"未知的顶层键 {k}；只允许 answers 和 facts",
               "message_en": f"unknown top-level key {k}; only answers and facts"}
              for k in unknown])
    return data.get("answers") or {}, data.get("facts") or {}


def resolve(definition_id: str, kind: str | None, version: str | None = None) -> Definition:
    """The definition by id (and version) from the registry, drafts allowed; exits 2 if unknown."""
    from . import registry

    try:
        with registry_session() as session:
            definition = registry.get_definition(session, definition_id, version, drafts=True)
    except UnknownDefinitionError as exc:
        fail([{"item": None, "code": "unknown_definition", "message": exc.message,
               "message_en": exc.message_en}])
        raise  # unreachable: fail exits
    if kind is not None and definition.kind != kind:
        wanted = "评估工具" if kind == "assessment" else "评定方案"
        fail([{"item": None, "code": "wrong_kind", "message": f"{definition_id} 不是{wanted}",
               "message_en": f"{definition_id} is not an {kind}" if kind == "assessment"
               else f"{definition_id} is not a rating scheme"}])
    return definition


def _run(definition_id: str, source: str | None, kind: str, version: str | None,
         jsonl: str | None) -> None:
    definition = resolve(definition_id, kind, version)
    if jsonl is not None:
        if source is not None:
            fail([{"item": None, "code": "bad_input",
                   "message": "给出 --jsonl 时不要再给答案文件",
                   "message_en": "give either an answers file or --jsonl, not both"}])
        with click.open_file(jsonl, "r", encoding="utf-8") as fh:
            had_errors = run_batch(definition, fh, sys.stdout)
        sys.exit(2 if had_errors else 0)
    if source is None:
        fail([{"item": None, "code": "bad_input", "message": "请给出答案文件（- 表示标准输入）或 --jsonl",
               "message_en": "give an answers file ('-' for stdin) or --jsonl"}])
        return
    answers, facts = _read_input(source)
    try:
        result = score(definition, answers, facts)
    except AnswerError as exc:
        fail(exc.errors)
    echo_json(result.to_dict())


_VERSION = click.option("--version", "version", default=None,
                        help="Definition version (default: newest published, else newest draft).")
_JSONL = click.option("--jsonl", default=None, type=click.Path(dir_okay=False, allow_dash=True),
                      help='Batch: one {"id", "answers", "facts", "policies"} per line.')


@click.command("score")
@click.argument("instrument")
@click.argument("answers_json", metavar="[ANSWERS_JSON]", required=False)
@_VERSION
@_JSONL
def score_command(instrument: str, answers_json: str | None, version: str | None,
                  jsonl: str | None) -> None:
    """Score an assessment: INSTRUMENT id and ANSWERS_JSON file ('-' reads stdin) or --jsonl."""
    _run(instrument, answers_json, "assessment", version, jsonl)


@click.command("rate")
@click.argument("scheme")
@click.argument("findings_json", metavar="[FINDINGS_JSON]", required=False)
@_VERSION
@_JSONL
def rate_command(scheme: str, findings_json: str | None, version: str | None,
                 jsonl: str | None) -> None:
    """Rate a facility: SCHEME id and FINDINGS_JSON file ('-' reads stdin) or --jsonl."""
    _run(scheme, findings_json, "rating", version, jsonl)


@click.group("instruments")
def instruments_group() -> None:
    """Instruments and rating schemes: list, show, validate, import, publish, retire, export."""


@instruments_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """List every id with its versions and their status."""
    from . import registry

    with registry_session() as session:
        rows = []
        for entry in registry.entries(session):
            definition = registry.definition_of(entry)
            rows.append({"id": entry.id, "version": entry.version, "status": entry.status,
                         "kind": entry.kind, "title": definition.title.zh,
                         "title_en": definition.title.en, "example": definition.example,
                         "builtin": entry.builtin})
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        mark = "  [示例 example]" if row["example"] else ""
        click.echo(f"{row['id']:<20} {row['version']:<8} {row['status']:<10} {row['kind']:<10} "
                   f"{row['title']}{mark}")


@instruments_group.command("show")
@click.argument("definition_id")
@_VERSION
def show_command(definition_id: str, version: str | None) -> None:
    """Show one definition: sections, items, levels and policy settings, as JSON."""
    definition = resolve(definition_id, None, version)
    data = definition.model_dump(mode="json", exclude_none=True, exclude={"rules"})
    data["rules"] = [r.model_dump(mode="json", exclude_none=True) for r in definition.rules]
    data["skip_logic"] = definition.skip_logic()
    echo_json(data)


@instruments_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def validate_command(path: str) -> None:
    """Validate a YAML or XLSX file; print every problem (line or sheet/row/column) and exit 2."""
    if path.lower().endswith(".xlsx"):
        from .files import read_definition_file

        try:
            definition, _text = read_definition_file(path)
        except Exception as exc:  # DefinitionError or unreadable
            fail(getattr(exc, "errors", None) or [{"item": None, "message": str(exc)}])
            return
    else:
        errors = validate_file(path)
        if errors:
            fail(errors)
        definition = load_file(path)
    echo_json({"ok": True, "id": definition.id, "version": definition.version,
               "kind": definition.kind, "items": len(definition.items)})


from . import commands  # noqa: E402  (registers import/publish/retire/export on the group)

commands.register(instruments_group)

__all__ = ["echo_json", "fail", "instruments_group", "rate_command", "resolve", "score_command"]
