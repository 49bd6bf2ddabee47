"""The definition registry's table: one row per (definition id, version) with its YAML source.

A version moves draft → published → retired. Records (assessments, inspections) keep the
(id, version) they were captured with; the source of that version is never edited in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.timeutil import utcnow

STATUSES = ("draft", "published", "retired")


class DefinitionVersion(SQLModel, table=True):
    """One version of an instrument or rating scheme, as its YAML source text."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("definition_id", "version", name="uq_definition_version"),)

    id: int | None = Field(default=None, primary_key=True)
    definition_id: str = Field(max_length=64, index=True)
    version: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=200)
    source: str = Field(sa_column=Column(Text, nullable=False))
    checksum: str = Field(max_length=64)
    status: str = Field(default="draft", max_length=16)
    builtin: bool = Field(default=False)
    change_note: str = Field(default="", max_length=1000)
    # Who uploaded it: a draft is seen by that organisation's subtree only; published is for all.
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    published_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    published_at: datetime | None = None
    retired_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    retired_at: datetime | None = None


class Rescore(SQLModel, table=True):
    """A record re-scored on request under another version; the record's own result is untouched."""

    __tablename__ = "definition_rescore"

    id: int | None = Field(default=None, primary_key=True)
    record_kind: str = Field(max_length=16)  # "assessment" | "inspection"
    record_id: int = Field(index=True)
    definition_id: str = Field(max_length=64)
    from_version: str = Field(max_length=32)
    to_version: str = Field(max_length=32)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    errors: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
