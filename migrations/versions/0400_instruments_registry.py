"""instruments: the definition registry (id, version → source, status) and on-request re-scores

Revision ID: 0400_instruments_registry
Revises: 0003_idempotency
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0400_instruments_registry"
down_revision: str | Sequence[str] | None = "0003_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "definition_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("checksum", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("change_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("retired_by_id", sa.Integer(), nullable=True),
        sa.Column("retired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["published_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["retired_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_id", "version", name="uq_definition_version"),
    )
    with op.batch_alter_table("definition_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_definition_version_definition_id"), ["definition_id"], unique=False)

    op.create_table(
        "definition_rescore",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("from_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("to_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("definition_rescore", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_definition_rescore_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("definition_rescore", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_definition_rescore_record_id"))
    op.drop_table("definition_rescore")
    with op.batch_alter_table("definition_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_definition_version_definition_id"))
    op.drop_table("definition_version")
