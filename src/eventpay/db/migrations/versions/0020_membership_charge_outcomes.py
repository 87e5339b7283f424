"""Membership charges: fee, refunds, disputes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

`membership_charges` learns what happened to a charge after it paid a membership invoice: the
provider's fee once read (`fee`, read again at `fee_check_at` until known, `fee_checks` times so
far), what was refunded of it (`refunded`, minor units) and the latest status of a dispute
(`dispute_status`) (`db.membership_models`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership_charges") as batch:
        batch.add_column(sa.Column("fee", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("fee_checks", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("fee_check_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refunded", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dispute_status", sa.String(32), nullable=True))
    op.create_index(
        op.f("ix_membership_charges_fee_check_at"), "membership_charges", ["fee_check_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_membership_charges_fee_check_at"), "membership_charges")
    with op.batch_alter_table("membership_charges") as batch:
        batch.drop_column("dispute_status")
        batch.drop_column("refunded")
        batch.drop_column("fee_check_at")
        batch.drop_column("fee_checks")
        batch.drop_column("fee")
