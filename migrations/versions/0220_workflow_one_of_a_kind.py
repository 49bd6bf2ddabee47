"""One amendment per assessment version; one open assessment per elder and instrument.

Concurrent "amend" or "开始评估" requests used to check and then insert, so two could both pass;
these unique indexes let the database decide (the loser gets 409 or the existing record).

Revision ID: 0220_workflow_one_of_a_kind
Revises: 0201_elder_version
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0220_workflow_one_of_a_kind"
down_revision: str | Sequence[str] | None = "0201_elder_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ASSESSMENT = "status <> 'approved' AND amends_id IS NULL"


def upgrade() -> None:
    op.create_index("uq_assessment_one_amendment", "assessment", ["amends_id"], unique=True)
    op.create_index("uq_assessment_one_open", "assessment", ["elder_id", "instrument_id"], unique=True,
                    sqlite_where=sa.text(OPEN_ASSESSMENT), postgresql_where=sa.text(OPEN_ASSESSMENT))


def downgrade() -> None:
    op.drop_index("uq_assessment_one_open", table_name="assessment")
    op.drop_index("uq_assessment_one_amendment", table_name="assessment")
