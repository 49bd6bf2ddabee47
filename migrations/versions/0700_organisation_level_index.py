"""Index of one level of the organisation tree: children of a parent by name, then id
(accounts.tree, the organisation page and API one level at a time)

Revision ID: 0700_organisation_level_index
Revises: 0531_assessor_qualification
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0700_organisation_level_index"
down_revision: str | Sequence[str] | None = "0531_assessor_qualification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_organisation_parent_name", "organisation", ["parent_id", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_organisation_parent_name", table_name="organisation")
