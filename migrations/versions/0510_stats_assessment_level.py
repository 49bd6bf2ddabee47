"""assessment.level_code (the final level, copied from the result) and the statistics indexes:
current approved versions by (organisation, approval time, level); an assessor's drafts

Revision ID: 0510_stats_assessment_level
Revises: 0291_scale_assessment_status
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0510_stats_assessment_level"
down_revision: str | Sequence[str] | None = "0291_scale_assessment_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT_APPROVED = "status = 'approved' AND superseded_by_id IS NULL"


def upgrade() -> None:
    op.add_column("assessment", sa.Column("level_code", sa.Integer(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE assessment SET level_code = (result::jsonb #>> '{level,code}')::numeric::integer "
                   "WHERE result IS NOT NULL AND jsonb_typeof(result::jsonb #> '{level,code}') = 'number'")
    else:
        op.execute("UPDATE assessment SET level_code = CAST(json_extract(result, '$.level.code') AS INTEGER) "
                   "WHERE result IS NOT NULL AND json_type(result, '$.level.code') IN ('integer', 'real')")
    op.create_index("ix_assessment_approved_current", "assessment", ["organisation_id", "approved_at", "level_code"],
                    postgresql_where=sa.text(CURRENT_APPROVED), sqlite_where=sa.text(CURRENT_APPROVED))
    op.create_index("ix_assessment_creator_status", "assessment", ["created_by_id", "status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_assessment_creator_status", table_name="assessment")
    op.drop_index("ix_assessment_approved_current", table_name="assessment")
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("level_code")
