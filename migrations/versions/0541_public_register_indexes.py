"""Indexes of the public register: facilities by name, and by district and name

Revision ID: 0541_public_register_indexes
Revises: 0540_grade_rewards
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0541_public_register_indexes"
down_revision: str | Sequence[str] | None = "0540_grade_rewards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rating_facility_name", "rating_facility", ["name", "id"])
    op.create_index("ix_rating_facility_district_name", "rating_facility", ["district", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_rating_facility_district_name", table_name="rating_facility")
    op.drop_index("ix_rating_facility_name", table_name="rating_facility")
