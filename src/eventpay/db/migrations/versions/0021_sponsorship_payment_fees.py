"""Sponsorship payments: the provider's fee

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

`sponsorship_payments` learns what the provider kept of each payment: `fee` once read (Stripe
reports it only on the charge's balance transaction, never in the events that pay an invoice),
read again at `fee_check_at` until known, `fee_checks` times so far
(`db.sponsor_models`, `services.sponsor_fees`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sponsorship_payments") as batch:
        batch.add_column(sa.Column("fee", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("fee_checks", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("fee_check_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_sponsorship_payments_fee_check_at"), "sponsorship_payments", ["fee_check_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sponsorship_payments_fee_check_at"), "sponsorship_payments")
    with op.batch_alter_table("sponsorship_payments") as batch:
        batch.drop_column("fee_check_at")
        batch.drop_column("fee_checks")
        batch.drop_column("fee")
