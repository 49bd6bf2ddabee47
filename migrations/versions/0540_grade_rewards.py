"""rating_grade_reward: what each grade pays, per organisation, from a date

Revision ID: 0540_grade_rewards
Revises: 0190_scale_facility_state
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0540_grade_rewards"
down_revision: str | Sequence[str] | None = "0190_scale_facility_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_grade_reward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("grade_code", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "scheme", "grade_code", "period", "valid_from", name="uq_rating_grade_reward"),
    )
    op.create_index("ix_rating_grade_reward_organisation_id", "rating_grade_reward", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_rating_grade_reward_organisation_id", table_name="rating_grade_reward")
    op.drop_table("rating_grade_reward")
