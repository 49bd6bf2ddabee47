"""What a domain supplies for one kind of import: its columns, the checks of a batch of rows and
the insert of the valid ones. The runner (imports.runner) does everything that is the same for
every kind: reading, numbering, duplicates within the file, reporting, the audit event."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.tabular import Column, Row


@dataclass
class Checked:
    """One row after its checks: the problems as (column key, message), the key that makes two
    rows the same record (None when the row is too broken to tell), whether a record with that
    key is already registered, and what the insert needs."""

    row: Row
    problems: list[tuple[str, Any]] = field(default_factory=list)
    key: str | None = None
    key_column: str = ""
    exists: bool = False
    record: Any = None


class Importer(ABC):
    """One kind of import. Subclasses set the class attributes and implement the three steps."""

    kind: str = ""
    title: Any = ""
    columns: Sequence[Column] = ()
    audit_action: str = ""
    duplicate_message: Any = ""

    @abstractmethod
    def start(self, *, session: Any, actor: Any, commit: bool) -> Any:
        """What the checks need for the whole file (the caller's organisations, a cipher...)."""

    @abstractmethod
    def check(self, context: Any, rows: list[Row]) -> list[Checked]:
        """Every problem of a batch of rows; looks up existing records once for the batch."""

    @abstractmethod
    def insert(self, context: Any, records: list[Any]) -> list[int]:
        """Insert a batch of valid records (and whatever keeps their derived state right)."""

    def summary(self, context: Any) -> dict[str, Any]:
        """Extra figures for the audit event and the report (e.g. passwords generated)."""
        return {}


IMPORTERS: dict[str, Importer] = {}


def register(importer: type[Importer]) -> type[Importer]:
    IMPORTERS[importer.kind] = importer()  # type: ignore[abstract]
    return importer
