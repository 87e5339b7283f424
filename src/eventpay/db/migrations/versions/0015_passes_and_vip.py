"""Spectator passes with capacity per day, and VIP upgrades

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

`pass_types` (a name, a unit price and the event days a pass admits to) and `vip_prices` (each
class's full VIP entry price). The gate's capacity per day and the VIP capacity are
`stock_items` rows, created when an organizer sets them (`db.pass_models`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pass_types",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("days", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_pass_types_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_pass_types_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_types")),
    )
    op.create_index(op.f("ix_pass_types_event_id"), "pass_types", ["event_id"])
    op.create_table(
        "vip_prices",
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_vip_prices_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_vip_prices_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", name=op.f("pk_vip_prices")),
    )
    op.create_index(op.f("ix_vip_prices_event_id"), "vip_prices", ["event_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vip_prices_event_id"), table_name="vip_prices")
    op.drop_table("vip_prices")
    op.drop_index(op.f("ix_pass_types_event_id"), table_name="pass_types")
    op.drop_table("pass_types")
