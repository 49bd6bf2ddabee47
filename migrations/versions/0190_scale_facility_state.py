"""rating_facility_state (each facility's current grade and open actions) and list indexes

Revision ID: 0190_scale_facility_state
Revises: 0101_facility_version
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0190_scale_facility_state"
down_revision: str | Sequence[str] | None = "0101_facility_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ACTIONS = sa.text("status <> 'closed'")


def upgrade() -> None:
    op.create_table(
        "rating_facility_state",
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("grade_id", sa.Integer(), nullable=True),
        sa.Column("grade_code", sa.Integer(), nullable=True),
        sa.Column("grade_label", sa.String(length=64), nullable=True),
        sa.Column("grade_valid_until", sa.Date(), nullable=True),
        sa.Column("open_action_count", sa.Integer(), nullable=False),
        sa.Column("inspection_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["rating_facility.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["grade_id"], ["rating_grade.id"]),
        sa.PrimaryKeyConstraint("facility_id"),
    )
    op.create_index("ix_rating_facility_state_organisation_id", "rating_facility_state", ["organisation_id"])
    op.create_index("ix_rating_action_open_due", "rating_action", ["organisation_id", "due_at", "id"],
                    postgresql_where=OPEN_ACTIONS, sqlite_where=OPEN_ACTIONS)
    op.create_index("ix_rating_action_org_due", "rating_action", ["organisation_id", "due_at", "id"])
    op.create_index("ix_rating_inspection_org_id", "rating_inspection", ["organisation_id", "id"])
    op.create_index("ix_rating_facility_org_name", "rating_facility", ["organisation_id", "name", "id"])
    op.create_index("ix_rating_grade_org_id", "rating_grade", ["organisation_id", "id"])
    op.create_index("ix_rating_certificate_org_id", "rating_certificate", ["organisation_id", "id"])
    _fill_states()


def _fill_states() -> None:
    """Existing databases get their state rows computed from history once."""
    from sqlmodel import Session

    from rating.state import rebuild_states

    with Session(bind=op.get_bind()) as session:
        for _drift in rebuild_states(session, fix=True):
            pass
        session.flush()


def downgrade() -> None:
    for name, table in (("ix_rating_certificate_org_id", "rating_certificate"), ("ix_rating_grade_org_id", "rating_grade"),
                        ("ix_rating_facility_org_name", "rating_facility"),
                        ("ix_rating_inspection_org_id", "rating_inspection"),
                        ("ix_rating_action_org_due", "rating_action"), ("ix_rating_action_open_due", "rating_action")):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_rating_facility_state_organisation_id", table_name="rating_facility_state")
    op.drop_table("rating_facility_state")
