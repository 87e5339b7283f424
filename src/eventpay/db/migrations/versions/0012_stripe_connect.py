"""Stripe Connect: organizers' connected accounts, payments' Connect side, transfers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

An organizer pays out through an Express account (`connected_accounts`, one per organizer,
as Stripe last described it). A payment attempt's Connect side (destination charge to whom,
keeping which application fee; or a separate charge) is decided when the attempt is created
and kept in `connect_charges`, so a retried create sends the same request and `ledger verify`
can find every destination charge. The transfers of separate charges (`connect_transfers`)
are sent by the janitor, selected by `(status, next_check_at)`, and so are the reversals a
refund of such an order calls for (`connect_transfer_reversals`). The payments table itself is
unchanged: its Connect side lives in `connect_charges`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "connected_accounts",
        sa.Column("organizer_id", sa.String(length=64), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("requirements_due", _JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_as_of", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizers.id"],
            name=op.f("fk_connected_accounts_organizer_id_organizers"),
        ),
        sa.PrimaryKeyConstraint("organizer_id", name=op.f("pk_connected_accounts")),
        sa.UniqueConstraint(
            "stripe_account_id", name=op.f("uq_connected_accounts_stripe_account_id")
        ),
    )
    op.create_table(
        "connect_charges",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("organizer_id", sa.String(length=64), nullable=True),
        sa.Column("destination", sa.String(length=255), nullable=True),
        sa.Column("application_fee", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_connect_charges_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_connect_charges")),
    )
    op.create_index(op.f("ix_connect_charges_order_id"), "connect_charges", ["order_id"])
    op.create_table(
        "connect_transfers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("organizer_id", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transfer_group", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("provider_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("reversed_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_connect_transfers_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_connect_transfers_idempotency_key")),
        sa.UniqueConstraint(
            "provider_transfer_id", name=op.f("uq_connect_transfers_provider_transfer_id")
        ),
    )
    op.create_index(op.f("ix_connect_transfers_payment_id"), "connect_transfers", ["payment_id"])
    op.create_index(op.f("ix_connect_transfers_order_id"), "connect_transfers", ["order_id"])
    op.create_index(
        "ix_connect_transfers_status_next_check_at",
        "connect_transfers",
        ["status", "next_check_at"],
    )
    op.create_table(
        "connect_transfer_reversals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("provider_reversal_id", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["connect_transfers.id"],
            name=op.f("fk_connect_transfer_reversals_transfer_id_connect_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_transfer_reversals")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_connect_transfer_reversals_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_connect_transfer_reversals_transfer_id"),
        "connect_transfer_reversals",
        ["transfer_id"],
    )
    op.create_index(
        op.f("ix_connect_transfer_reversals_refund_id"), "connect_transfer_reversals", ["refund_id"]
    )
    op.create_index(
        "ix_connect_transfer_reversals_status_next_check_at",
        "connect_transfer_reversals",
        ["status", "next_check_at"],
    )


def downgrade() -> None:
    op.drop_table("connect_transfer_reversals")
    op.drop_table("connect_transfers")
    op.drop_table("connect_charges")
    op.drop_table("connected_accounts")
