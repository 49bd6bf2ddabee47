"""assessment_drawn_signature: signatures drawn on the tablet, bound to the answers' hash

Revision ID: 0572_drawn_signatures
Revises: 0571_assessment_visit
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0572_drawn_signatures"
down_revision: str | Sequence[str] | None = "0571_assessment_visit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_drawn_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("signer_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("signer_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("answers_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("drawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"]),
        sa.ForeignKeyConstraint(["drawn_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", "signer_key", name="uq_drawn_signature_signer"),
    )
    op.create_index("ix_assessment_drawn_signature_assessment_id", "assessment_drawn_signature", ["assessment_id"])
    op.create_index("ix_assessment_drawn_signature_organisation_id", "assessment_drawn_signature",
                    ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_drawn_signature_organisation_id", table_name="assessment_drawn_signature")
    op.drop_index("ix_assessment_drawn_signature_assessment_id", table_name="assessment_drawn_signature")
    op.drop_table("assessment_drawn_signature")
