"""idempotent_request.fingerprint (a reused key with another body is refused) and an index on
created_at (old answers are pruned)

Revision ID: 0310_kernel_idempotency
Revises: 0003_idempotency
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0310_kernel_idempotency"
down_revision: str | Sequence[str] | None = "0003_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotent_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_idempotent_request_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotent_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotent_request_created_at"))
        batch_op.drop_column("fingerprint")
