"""assessment_photo: photos taken for the items of an assessment

Revision ID: 0570_assessment_photos
Revises: 0291_scale_assessment_status
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0570_assessment_photos"
down_revision: str | Sequence[str] | None = "0291_scale_assessment_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assessment_photo_assessment_id", "assessment_photo", ["assessment_id"])
    op.create_index("ix_assessment_photo_organisation_id", "assessment_photo", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_photo_organisation_id", table_name="assessment_photo")
    op.drop_index("ix_assessment_photo_assessment_id", table_name="assessment_photo")
    op.drop_table("assessment_photo")
