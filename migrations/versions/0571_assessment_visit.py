"""assessment_visit: the visit record (times, seconds per section, location); elder coordinates

Revision ID: 0571_assessment_visit
Revises: 0570_assessment_photos
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0571_assessment_visit"
down_revision: str | Sequence[str] | None = "0570_assessment_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("section_seconds", sa.JSON(), nullable=False),
        sa.Column("location_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("located_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", "client_id", name="uq_assessment_visit_client"),
    )
    op.create_index("ix_assessment_visit_assessment_id", "assessment_visit", ["assessment_id"])
    op.create_index("ix_assessment_visit_organisation_id", "assessment_visit", ["organisation_id"])
    op.add_column("elder", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("elder", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elder") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
    op.drop_index("ix_assessment_visit_organisation_id", table_name="assessment_visit")
    op.drop_index("ix_assessment_visit_assessment_id", table_name="assessment_visit")
    op.drop_table("assessment_visit")
