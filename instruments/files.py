"""Definition files in and out: YAML or XLSX by name or content, always stored as YAML text."""

from __future__ import annotations

from pathlib import Path

from scoring import Definition, DefinitionError
from scoring.errors import definition_error

from .yamlio import dump_yaml, parse_yaml

XLSX_MAGIC = b"PK\x03\x04"


def read_definition_bytes(data: bytes, filename: str = "<upload>") -> tuple[Definition, str]:
    """(definition, YAML source) from the bytes of a YAML or XLSX file; DefinitionError lists
    every problem (YAML line, or sheet/row/column)."""
    if filename.lower().endswith(".xlsx") or data.startswith(XLSX_MAGIC):
        from .xlsx_read import read_xlsx

        return read_xlsx(data, source=filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DefinitionError([definition_error(filename, None, "yaml",
                                                detail="the file is not UTF-8 text")]) from None
    return parse_yaml(text, source=filename), text


def read_definition_file(path: str | Path) -> tuple[Definition, str]:
    """Like read_definition_bytes, for a file on disk (an unreadable file is a DefinitionError)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DefinitionError([definition_error(str(path), None, "yaml", detail=str(exc))]) from None
    return read_definition_bytes(data, filename=str(path))


def export_bytes(definition: Definition, source: str, fmt: str) -> bytes:
    """One version as YAML (its stored source) or XLSX (that imports back to the same definition)."""
    if fmt == "yaml":
        return (source or dump_yaml(definition)).encode("utf-8")
    if fmt == "xlsx":
        from .xlsx import write_xlsx

        return write_xlsx(definition)
    raise ValueError(f"unknown format {fmt}")


__all__ = ["export_bytes", "read_definition_bytes", "read_definition_file"]
