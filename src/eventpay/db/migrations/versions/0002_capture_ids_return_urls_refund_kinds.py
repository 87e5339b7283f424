"""capture ids, return urls, refund kinds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 06:46:02.805609
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capture_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("return_url", sa.String(length=2000), nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_capture_id"), ["capture_id"], unique=False)

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), server_default="customer", nullable=False)
        )
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_refunds_status"), ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_status"))
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("kind")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_capture_id"))
        batch_op.drop_column("return_url")
        batch_op.drop_column("capture_id")
