"""elder_name_gram: each character and pair of characters of an elder's name, for one- and
two-character name search (assessment.names)

Revision ID: 0610_elder_name_grams
Revises: 0600_visit_end_location
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0610_elder_name_grams"
down_revision: str | Sequence[str] | None = "0600_visit_end_location"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "elder_name_gram",
        sa.Column("gram", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["elder_id"], ["elder.id"]),
        sa.PrimaryKeyConstraint("gram", "name", "elder_id"),
    )
    op.create_index("ix_elder_name_gram_elder_id", "elder_name_gram", ["elder_id"])
    _fill()


def _fill() -> None:
    """The grams of the elders already registered, 2,000 elders at a time, then fresh statistics
    for the planner. Written against this revision's columns only (a later revision adds
    organisation_id and fills it), with the one rule of what a gram is (assessment.names.name_grams)."""
    from assessment.names import name_grams

    bind = op.get_bind()
    elder = sa.table("elder", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    gram_table = sa.table("elder_name_gram", sa.column("gram", sa.String()), sa.column("name", sa.String()),
                          sa.column("elder_id", sa.Integer()))
    last = 0
    while True:
        elders = bind.execute(sa.select(elder.c.id, elder.c.name).where(elder.c.id > last)
                              .order_by(elder.c.id).limit(2000)).all()
        if not elders:
            break
        rows = [{"gram": gram, "name": name, "elder_id": elder_id}
                for elder_id, name in elders for gram in sorted(name_grams(name))]
        if rows:
            bind.execute(sa.insert(gram_table), rows)
        last = elders[-1][0]
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("ANALYZE elder_name_gram"))


def downgrade() -> None:
    op.drop_index("ix_elder_name_gram_elder_id", table_name="elder_name_gram")
    op.drop_table("elder_name_gram")
