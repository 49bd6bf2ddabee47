"""assessment_visit: where the device was at the end of the visit (beside the start's location)

Revision ID: 0600_visit_end_location
Revises: 0572_drawn_signatures
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0600_visit_end_location"
down_revision: str | Sequence[str] | None = "0572_drawn_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_visit") as batch:
        batch.add_column(sa.Column("end_location_status", sqlmodel.sql.sqltypes.AutoString(length=16),
                                   nullable=False, server_default=""))
        batch.add_column(sa.Column("end_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("end_longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("end_accuracy_m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("end_located_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_visit") as batch:
        batch.drop_column("end_located_at")
        batch.drop_column("end_accuracy_m")
        batch.drop_column("end_longitude")
        batch.drop_column("end_latitude")
        batch.drop_column("end_location_status")
