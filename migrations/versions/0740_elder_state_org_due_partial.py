"""ix_elder_state_org_due becomes partial (no assessment under way, a due date), like
ix_elder_state_due: the due lists read only those rows, and the statistics' current-month window
of due and overdue elders counts them from the index alone

Revision ID: 0740_elder_state_org_due_partial
Revises: 0730_name_gram_organisation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0740_elder_state_org_due_partial"
down_revision: str | Sequence[str] | None = "0730_name_gram_organisation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE_ROWS = sa.text("open_assessment_id IS NULL AND next_due_on IS NOT NULL")
COLUMNS = ["organisation_id", "next_due_on", "elder_id"]


def upgrade() -> None:
    op.drop_index("ix_elder_state_org_due", table_name="elder_state")
    op.create_index("ix_elder_state_org_due", "elder_state", COLUMNS, postgresql_where=DUE_ROWS, sqlite_where=DUE_ROWS)
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().execute(sa.text("ANALYZE elder_state"))


def downgrade() -> None:
    op.drop_index("ix_elder_state_org_due", table_name="elder_state")
    op.create_index("ix_elder_state_org_due", "elder_state", COLUMNS)
