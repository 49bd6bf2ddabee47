"""assessment_signature (user_id, assessment_id): the assessments one person signed, read by the
inbox's "waiting for my signature" without scanning every signature

Revision ID: 0750_signature_user_index
Revises: 0740_elder_state_org_due_partial
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0750_signature_user_index"
down_revision: str | Sequence[str] | None = "0740_elder_state_org_due_partial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assessment_signature_user", "assessment_signature", ["user_id", "assessment_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_signature_user", table_name="assessment_signature")
