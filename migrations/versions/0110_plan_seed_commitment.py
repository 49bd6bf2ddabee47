"""rating_plan: a hash commitment to the server's seed, published before the draw

Revision ID: 0110_plan_seed_commitment
Revises: 0101_facility_version
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0110_plan_seed_commitment"
down_revision: str | Sequence[str] | None = "0101_facility_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rating_plan") as batch:
        batch.add_column(sa.Column("seed_commitment", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("drawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # plans drawn before: their seed is already public; record its commitment and the draw time
    conn = op.get_bind()
    for plan_id, seed, created_at in conn.execute(sa.text("SELECT id, seed, created_at FROM rating_plan")).all():
        conn.execute(sa.text("UPDATE rating_plan SET seed_commitment=:c, drawn_at=:d WHERE id=:id"),
                     {"c": hashlib.sha256(seed.encode()).hexdigest(), "d": created_at, "id": plan_id})
    with op.batch_alter_table("rating_plan") as batch:
        batch.alter_column("seed_commitment", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("rating_plan") as batch:
        batch.drop_column("drawn_at")
        batch.drop_column("seed_commitment")
