"""assessment (status, updated_at, id): the assessment list filtered by status, newest first

Revision ID: 0291_scale_assessment_status
Revises: 0290_scale_elder_state
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0291_scale_assessment_status"
down_revision: str | Sequence[str] | None = "0290_scale_elder_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assessment_status_updated", "assessment", ["status", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_status_updated", table_name="assessment")
