"""audit_checkpoint: signed anchors of the audit hash chain's head

Revision ID: 0410_audit_checkpoint
Revises: 0003_idempotency
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0410_audit_checkpoint"
down_revision: str | Sequence[str] | None = "0003_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("legacy_until", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_checkpoint_event_id"), "audit_checkpoint", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_checkpoint_event_id"), table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
