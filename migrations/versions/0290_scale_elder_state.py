"""elder_state (each elder's current state) and the indexes of the paged lists

Revision ID: 0290_scale_elder_state
Revises: 0201_elder_version
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0290_scale_elder_state"
down_revision: str | Sequence[str] | None = "0201_elder_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE_ROWS = sa.text("open_assessment_id IS NULL AND next_due_on IS NOT NULL")
OPEN_ASSESSMENTS = sa.text("status <> 'approved'")


def _trigram_ops() -> str | None:
    """The trigram operator class, created with pg_trgm when the database lets us; None where it
    cannot be had (the name index is then a plain one). The class is named with the schema the
    extension lives in, which need not be on this connection's search path."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return None
    schema = bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar()
    return f'"{schema}".gin_trgm_ops' if schema else None


def upgrade() -> None:
    op.create_table(
        "elder_state",
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("latest_assessment_id", sa.Integer(), nullable=True),
        sa.Column("instrument_id", sa.String(length=64), nullable=True),
        sa.Column("level_code", sa.Integer(), nullable=True),
        sa.Column("level_label", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("open_assessment_id", sa.Integer(), nullable=True),
        sa.Column("assessment_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["elder_id"], ["elder.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["latest_assessment_id"], ["assessment.id"]),
        sa.ForeignKeyConstraint(["open_assessment_id"], ["assessment.id"]),
        sa.PrimaryKeyConstraint("elder_id"),
    )
    op.create_index("ix_elder_state_due", "elder_state", ["next_due_on", "elder_id"],
                    postgresql_where=DUE_ROWS, sqlite_where=DUE_ROWS)
    op.create_index("ix_elder_state_org_due", "elder_state", ["organisation_id", "next_due_on", "elder_id"])
    op.create_index("ix_elder_state_level", "elder_state", ["organisation_id", "level_code", "elder_id"])
    op.create_index("ix_elder_org_name", "elder", ["organisation_id", "name", "id"])
    op.create_index("ix_elder_org_community", "elder", ["organisation_id", "community", "id"])
    trigram_ops = _trigram_ops()
    if trigram_ops:
        op.create_index("ix_elder_name_trgm", "elder", ["name"], postgresql_using="gin",
                        postgresql_ops={"name": trigram_ops})
    else:
        op.create_index("ix_elder_name_trgm", "elder", ["name"])
    op.create_index("ix_assessment_updated", "assessment", ["updated_at", "id"])
    op.create_index("ix_assessment_org_updated", "assessment", ["organisation_id", "updated_at", "id"])
    op.create_index("ix_assessment_elder_created", "assessment", ["elder_id", "created_at", "id"])
    op.create_index("ix_assessment_open", "assessment", ["organisation_id", "updated_at", "id"],
                    postgresql_where=OPEN_ASSESSMENTS, sqlite_where=OPEN_ASSESSMENTS)
    _fill_states()


def _fill_states() -> None:
    """Existing databases get their state rows computed from history once."""
    from sqlmodel import Session

    from assessment.state import rebuild_states

    with Session(bind=op.get_bind()) as session:
        for _drift in rebuild_states(session, fix=True):
            pass
        session.flush()


def downgrade() -> None:
    for name, table in (("ix_assessment_open", "assessment"), ("ix_assessment_elder_created", "assessment"),
                        ("ix_assessment_org_updated", "assessment"), ("ix_assessment_updated", "assessment"),
                        ("ix_elder_name_trgm", "elder"), ("ix_elder_org_community", "elder"),
                        ("ix_elder_org_name", "elder")):
        op.drop_index(name, table_name=table)
    op.drop_table("elder_state")
