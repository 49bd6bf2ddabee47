"""rating_action (organisation, created_at) and (organisation, verified_at): actions opened and
closed per month, for the statistics

Revision ID: 0511_stats_action_months
Revises: 0190_scale_facility_state
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0511_stats_action_months"
down_revision: str | Sequence[str] | None = "0190_scale_facility_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rating_action_org_created", "rating_action", ["organisation_id", "created_at"])
    op.create_index("ix_rating_action_org_verified", "rating_action", ["organisation_id", "verified_at"])


def downgrade() -> None:
    op.drop_index("ix_rating_action_org_verified", table_name="rating_action")
    op.drop_index("ix_rating_action_org_created", table_name="rating_action")
