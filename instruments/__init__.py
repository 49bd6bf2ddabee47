"""Built-in packs (YAML instruments and rating schemes) and the file-reading loader.

`scoring` parses text and never touches files; reading packs from disk happens here.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from scoring import Definition, DefinitionError, load_definition_text
from scoring.errors import definition_error

PACK_FILES = (
    "gbt42195-2022.yaml",
    "mzt039-2013.yaml",
    "barthel.yaml",
    "gbt37276-2018.yaml",
    "community-star.yaml",
    "medal-example.yaml",
    "gb38600-safety.yaml",
)


class UnknownDefinitionError(KeyError):
    """No built-in pack has this id (or version); the message lists the known ids."""

    def __init__(self, definition_id: str, version: str | None, known: list[str]) -> None:
        self.definition_id = definition_id
        self.version = version
        self.known = known
        what = f"{definition_id} version {version}" if version else definition_id
        self.message = f"未知的评估工具或评定方案 {what}；可用：{', '.join(known)}"
        self.message_en = f"unknown instrument or scheme {what}; known: {', '.join(known)}"
        super().__init__(self.message_en)

    def __str__(self) -> str:
        return self.message_en


def load_file(path: str | Path) -> Definition:
    """Read and parse one YAML pack; raise DefinitionError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError([definition_error(str(path), None, "yaml",
                                                detail=str(exc))]) from None
    return load_definition_text(text, source=str(path))


def validate_file(path: str | Path) -> list[dict[str, Any]]:
    """Return every problem in a pack file (empty when it is valid)."""
    try:
        load_file(path)
    except DefinitionError as exc:
        return exc.errors
    return []


@functools.cache
def builtin() -> dict[str, Definition]:
    """Every built-in pack by id, parsed once; a broken pack raises DefinitionError."""
    packs: dict[str, Definition] = {}
    errors: list[dict[str, Any]] = []
    root = resources.files(__name__)
    for name in PACK_FILES:
        text = (root / name).read_text(encoding="utf-8")
        try:
            definition = load_definition_text(text, source=f"instruments/{name}")
        except DefinitionError as exc:
            errors.extend(exc.errors)
            continue
        packs[definition.id] = definition
    if errors:
        raise DefinitionError(errors)
    return packs


def get(definition_id: str, version: str | None = None) -> Definition:
    """Return a built-in pack by id (and version); raise UnknownDefinitionError otherwise."""
    packs = builtin()
    definition = packs.get(definition_id)
    if definition is None or (version is not None and definition.version != str(version)):
        raise UnknownDefinitionError(definition_id, version, sorted(packs))
    return definition


__all__ = ["PACK_FILES", "UnknownDefinitionError", "builtin", "get", "load_file", "validate_file"]
