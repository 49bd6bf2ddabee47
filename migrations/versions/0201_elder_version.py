"""elder.version: optimistic lock for edits

Revision ID: 0201_elder_version
Revises: 0200_assessment
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0201_elder_version"
down_revision: str | Sequence[str] | None = "0200_assessment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("elder", schema=None) as batch_op:
        batch_op.drop_column("version")
