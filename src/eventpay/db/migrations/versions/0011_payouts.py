"""Organizer payouts: payout destinations and holds, event reserves, the payouts table

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Organizers get a PayPal address to be paid at and an admin's hold on their payouts. Events get
an end and a reserve period: what an event's orders earned is held until `reserve_until`
((ends_at or starts_at) + payout_reserve_days, 7 by default), kept on every write so a payout
run selects it in SQL, unless an admin released it earlier. Existing events get the default.
Each payout is one row, unique per organizer, currency and period (several concurrent runs:
one winner), and unique by the provider's item id.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DEFAULT_RESERVE_DAYS = 7


def upgrade() -> None:
    with op.batch_alter_table("organizers") as batch:
        batch.add_column(sa.Column("paypal_email", sa.String(length=254), nullable=True))
        batch.add_column(
            sa.Column("payouts_on_hold", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("payouts_hold_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("payout_reserve_days", sa.Integer(), server_default="7", nullable=False)
        )
        batch.add_column(sa.Column("reserve_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("reserve_released_at", sa.DateTime(timezone=True), nullable=True)
        )
    events = sa.table(
        "events",
        sa.column("id", sa.String()),
        sa.column("starts_at", sa.DateTime(timezone=True)),
        sa.column("reserve_until", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    for event_id, starts_at in connection.execute(sa.select(events.c.id, events.c.starts_at)):
        connection.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(reserve_until=starts_at + timedelta(days=DEFAULT_RESERVE_DAYS))
        )
    with op.batch_alter_table("events") as batch:
        batch.alter_column(
            "reserve_until", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.create_index(batch.f("ix_events_reserve_until"), ["reserve_until"])
    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organizer_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("provider_batch_id", sa.String(length=255), nullable=True),
        sa.Column("provider_item_id", sa.String(length=255), nullable=True),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("transaction_id", sa.String(length=255), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["organizers.id"], name=op.f("fk_payouts_organizer_id_organizers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint(
            "organizer_id",
            "currency",
            "period",
            name=op.f("uq_payouts_organizer_id_currency_period"),
        ),
        sa.UniqueConstraint(
            "provider", "provider_item_id", name=op.f("uq_payouts_provider_provider_item_id")
        ),
    )
    op.create_index(op.f("ix_payouts_organizer_id"), "payouts", ["organizer_id"])
    op.create_index(op.f("ix_payouts_run_id"), "payouts", ["run_id"])
    op.create_index("ix_payouts_status_next_check_at", "payouts", ["status", "next_check_at"])


def downgrade() -> None:
    op.drop_table("payouts")
    with op.batch_alter_table("events") as batch:
        batch.drop_index(batch.f("ix_events_reserve_until"))
        batch.drop_column("reserve_released_at")
        batch.drop_column("reserve_until")
        batch.drop_column("payout_reserve_days")
        batch.drop_column("ends_at")
    with op.batch_alter_table("organizers") as batch:
        batch.drop_column("payouts_hold_reason")
        batch.drop_column("payouts_on_hold")
        batch.drop_column("paypal_email")
