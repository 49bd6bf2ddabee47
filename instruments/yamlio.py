"""YAML in and out of the registry: parse with every problem placed on its line, dump for export."""

from __future__ import annotations

import re
from typing import Any

import yaml

from scoring import Definition, DefinitionError, load_definition_text

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path(field: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _PART.findall(field)]


def _line_of(root: yaml.Node | None, field: str | None) -> int | None:
    """The 1-based line of the deepest node the error's field path reaches."""
    if root is None or not field or field == "<root>":
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in _path(field):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def locate(text: str, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `line` (1-based) to every error whose field can be found in the YAML text."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    out = []
    for error in errors:
        error = dict(error)
        if error.get("line") is None:
            position = str(error.get("position") or "")
            match = re.match(r"line (\d+)", position)
            line = int(match.group(1)) if match else _line_of(root, error.get("field"))
            if line is not None:
                error["line"] = line
        out.append(error)
    return out


def parse_yaml(text: str, source: str = "<upload>") -> Definition:
    """Parse a YAML definition; DefinitionError errors carry the YAML `line` where it is known."""
    try:
        return load_definition_text(text, source=source)
    except DefinitionError as exc:
        raise DefinitionError(locate(text, exc.errors)) from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump_yaml(definition: Definition) -> str:
    """The definition as YAML that loads back to an equal definition."""
    raw = definition._raw if definition._raw is not None else definition.model_dump(
        mode="json", exclude_none=True)
    return yaml.safe_dump(_plain(raw), allow_unicode=True, sort_keys=False, width=100)


def dump_data(data: dict[str, Any]) -> str:
    """A definition mapping (as the spreadsheet reader builds it) as YAML text."""
    return yaml.safe_dump(_plain(data), allow_unicode=True, sort_keys=False, width=100)


__all__ = ["dump_data", "dump_yaml", "locate", "parse_yaml"]
