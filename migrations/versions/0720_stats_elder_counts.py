"""stats_elder_level and stats_elder_due: elders per organisation, instrument and current level,
and per organisation and month of the next due date, the statistics' counters over elder_state
(assessment.counts)

Revision ID: 0720_stats_elder_counts
Revises: 0660_stats_assessment_day
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0720_stats_elder_counts"
down_revision: str | Sequence[str] | None = "0660_stats_assessment_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_elder_level",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("level_code", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "instrument_id", "level_code"),
    )
    op.create_table(
        "stats_elder_due",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("due_month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "due_month"),
    )
    _fill()


def _fill() -> None:
    """The counts of the elder_state rows already there (the same code as `yiyang repair-state`;
    it reads elder_state's columns only), then fresh statistics for the planner."""
    from sqlmodel import Session

    from assessment.counts import rebuild_due_counts, rebuild_level_counts

    bind = op.get_bind()
    with Session(bind=bind) as session:
        for rebuilt in (rebuild_level_counts, rebuild_due_counts):
            for _drift in rebuilt(session, fix=True):
                pass
        session.flush()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("ANALYZE stats_elder_level, stats_elder_due"))


def downgrade() -> None:
    op.drop_table("stats_elder_due")
    op.drop_table("stats_elder_level")
