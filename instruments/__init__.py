"""Built-in packs (YAML instruments and rating schemes) and the file-reading loader.

`scoring` parses text and never touches files; reading packs from disk happens here.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from scoring import Definition, DefinitionError, load_definition_text
from scoring.errors import definition_error

PACK_FILES = (
    "gbt42195-2022.yaml",
    "gbt42195-2022-v1.yaml",
    "mzt039-2013.yaml",
    "mzt039-2013-v1.yaml",
    "barthel.yaml",
    "gbt37276-2018.yaml",
    "community-star.yaml",
    "medal-example.yaml",
    "gb38600-safety.yaml",
    "nmg-institution-star.yaml",
    "nmg-area-centre-star.yaml",
    "nmg-community-station-star.yaml",
    "shexian-quality-checklist.yaml",
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


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for version strings: numeric parts compare as numbers ("2022" > "2013", "10" > "9")."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.findall(r"\d+|[^\W\d_]+", version))


def checksum(text: str) -> str:
    """The SHA-256 of a definition's source text (hex), as the registry stores it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BuiltinPack:
    """One shipped pack file: its source text, checksum and parsed definition."""

    file: str
    text: str
    checksum: str
    definition: Definition


@functools.cache
def builtin_packs() -> dict[tuple[str, str], BuiltinPack]:
    """Every shipped pack by (id, version), parsed once; a broken pack raises DefinitionError."""
    packs: dict[tuple[str, str], BuiltinPack] = {}
    errors: list[dict[str, Any]] = []
    root = resources.files(__name__)
    for name in PACK_FILES:
        text = (root / name).read_text(encoding="utf-8")
        try:
            definition = load_definition_text(text, source=f"instruments/{name}")
        except DefinitionError as exc:
            errors.extend(exc.errors)
            continue
        packs[(definition.id, definition.version)] = BuiltinPack(name, text, checksum(text), definition)
    if errors:
        raise DefinitionError(errors)
    return packs


def builtin() -> dict[str, Definition]:
    """The newest shipped version of every built-in pack, by id."""
    newest: dict[str, Definition] = {}
    for (definition_id, version), pack in builtin_packs().items():
        current = newest.get(definition_id)
        if current is None or version_key(version) > version_key(current.version):
            newest[definition_id] = pack.definition
    return newest


builtin.cache_clear = builtin_packs.cache_clear  # type: ignore[attr-defined]


def get(definition_id: str, version: str | None = None) -> Definition:
    """Return a built-in pack by id (newest version, or the one named); raise UnknownDefinitionError."""
    if version is not None:
        pack = builtin_packs().get((definition_id, str(version)))
        if pack is not None:
            return pack.definition
        raise UnknownDefinitionError(definition_id, version, sorted(builtin()))
    definition = builtin().get(definition_id)
    if definition is None:
        raise UnknownDefinitionError(definition_id, version, sorted(builtin()))
    return definition


__all__ = ["PACK_FILES", "BuiltinPack", "UnknownDefinitionError", "builtin", "builtin_packs", "checksum", "get",
           "load_file", "validate_file", "version_key"]
