"""Membership subscriptions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

`membership_subscriptions`: one row per Stripe or PayPal subscription with the merged facts of
its life (`db.membership_models`). The `memberships` table stays, as their projection.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "membership_subscriptions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_subscription_id", sa.String(128), nullable=False),
        sa.Column("tier_code", sa.String(32), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("paid_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("member_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_subscriptions")),
        sa.UniqueConstraint(
            "provider",
            "provider_subscription_id",
            name=op.f("uq_membership_subscriptions_provider_provider_subscription_id"),
        ),
    )
    op.create_index(
        op.f("ix_membership_subscriptions_user_id"), "membership_subscriptions", ["user_id"]
    )
    op.create_table(
        "membership_charges",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.Column("payment_ref", sa.String(255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_charges")),
        sa.UniqueConstraint("provider", "ref", name=op.f("uq_membership_charges_provider_ref")),
    )
    op.create_index(op.f("ix_membership_charges_created_at"), "membership_charges", ["created_at"])
    op.create_table(
        "membership_claims",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_membership_claims")),
    )


def downgrade() -> None:
    op.drop_table("membership_claims")
    op.drop_table("membership_charges")
    op.drop_index(op.f("ix_membership_subscriptions_user_id"), "membership_subscriptions")
    op.drop_table("membership_subscriptions")
