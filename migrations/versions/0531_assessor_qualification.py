"""assessor_qualification: an assessor's certificate number, issuer and last valid day

Revision ID: 0531_assessor_qualification
Revises: 0530_user_must_change_password
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0531_assessor_qualification"
down_revision: str | Sequence[str] | None = "0530_user_must_change_password"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessor_qualification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("certificate_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assessor_qualification", schema=None) as batch_op:
        batch_op.create_index("ix_assessor_qualification_user_valid", ["user_id", "valid_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessor_qualification_organisation_id"), ["organisation_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_assessor_qualification_valid_until"), ["valid_until"], unique=False)


def downgrade() -> None:
    op.drop_table("assessor_qualification")
