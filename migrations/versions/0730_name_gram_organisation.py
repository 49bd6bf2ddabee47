"""elder_name_gram.organisation_id and the index (gram, organisation_id, name, elder_id): a
district's name search and its count read only the district's grams (assessment.names)

Revision ID: 0730_name_gram_organisation
Revises: 0720_stats_elder_counts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0730_name_gram_organisation"
down_revision: str | Sequence[str] | None = "0720_stats_elder_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("elder_name_gram", sa.Column("organisation_id", sa.Integer(), nullable=True))
    # The elder's organisation, in one statement (a join on PostgreSQL; SQLite's correlated form).
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("UPDATE elder_name_gram AS g SET organisation_id = e.organisation_id "
                             "FROM elder AS e WHERE e.id = g.elder_id"))
    else:
        bind.execute(sa.text("UPDATE elder_name_gram SET organisation_id = "
                             "(SELECT organisation_id FROM elder WHERE elder.id = elder_name_gram.elder_id)"))
    with op.batch_alter_table("elder_name_gram") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_elder_name_gram_org", "elder_name_gram", ["gram", "organisation_id", "name", "elder_id"])
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("ANALYZE elder_name_gram"))


def downgrade() -> None:
    op.drop_index("ix_elder_name_gram_org", table_name="elder_name_gram")
    with op.batch_alter_table("elder_name_gram") as batch:
        batch.drop_column("organisation_id")
