"""organisations managed by the bureau: active flag, version, kinds bureau/operator, contracts

Revision ID: 0005_organisation_admin
Revises: 0004_api_token_use
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_organisation_admin"
down_revision: str | Sequence[str] | None = "0004_api_token_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.execute("UPDATE organisation SET kind = 'operator' WHERE kind = 'facility_operator'")
    op.create_table(
        "organisation_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organisation_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_contract_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_contract_organisation_id"), ["organisation_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("organisation_contract")
    op.execute("UPDATE organisation SET kind = 'facility_operator' WHERE kind = 'operator'")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("is_active")
