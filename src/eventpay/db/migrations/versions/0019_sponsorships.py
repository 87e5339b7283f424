"""Sponsorships

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

`sponsor_packages`, `sponsorships` (one invoice each) and `sponsorship_payments` (each payment
an invoice received, once) (`db.sponsor_models`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sponsor_packages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsor_packages")),
    )
    op.create_index(op.f("ix_sponsor_packages_event_id"), "sponsor_packages", ["event_id"])
    op.create_table(
        "sponsorships",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("sponsor_name", sa.String(200), nullable=False),
        sa.Column("sponsor_email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_invoice_id", sa.String(128), nullable=True),
        sa.Column("invoice_url", sa.String(500), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("platform_fee", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorships")),
        sa.UniqueConstraint(
            "provider",
            "provider_invoice_id",
            name=op.f("uq_sponsorships_provider_provider_invoice_id"),
        ),
    )
    op.create_index(op.f("ix_sponsorships_event_id"), "sponsorships", ["event_id"])
    op.create_index(op.f("ix_sponsorships_package_id"), "sponsorships", ["package_id"])
    op.create_table(
        "sponsorship_payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sponsorship_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("payment_ref", sa.String(128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorship_payments")),
        sa.UniqueConstraint(
            "provider", "payment_ref", name=op.f("uq_sponsorship_payments_provider_payment_ref")
        ),
    )
    op.create_index(
        op.f("ix_sponsorship_payments_sponsorship_id"), "sponsorship_payments", ["sponsorship_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sponsorship_payments_sponsorship_id"), "sponsorship_payments")
    op.drop_table("sponsorship_payments")
    op.drop_index(op.f("ix_sponsorships_package_id"), "sponsorships")
    op.drop_index(op.f("ix_sponsorships_event_id"), "sponsorships")
    op.drop_table("sponsorships")
    op.drop_index(op.f("ix_sponsor_packages_event_id"), "sponsor_packages")
    op.drop_table("sponsor_packages")
