"""stats_assessment_day: current approved assessments per organisation, day of approval (in the
organisation's time zone) and level, the statistics' counter (assessment.counts)

Revision ID: 0660_stats_assessment_day
Revises: 0610_elder_name_grams, 0510_stats_assessment_level
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0660_stats_assessment_day"
# after the newest revision and after 0510, which added assessment.level_code (it joins those branches)
down_revision: str | Sequence[str] | None = ("0610_elder_name_grams", "0510_stats_assessment_level")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_assessment_day",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("level_code", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "approved_on", "level_code"),
    )
    _fill()


def _fill() -> None:
    """The counts of the assessments already approved (the same code as `yiyang repair-state`),
    then fresh statistics for the planner."""
    from sqlmodel import Session

    from assessment.counts import rebuild_day_counts

    bind = op.get_bind()
    with Session(bind=bind) as session:
        for _drift in rebuild_day_counts(session, fix=True):
            pass
        session.flush()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("ANALYZE stats_assessment_day"))


def downgrade() -> None:
    op.drop_table("stats_assessment_day")
