"""Places with capacities, reservations, promo codes, and each order line's discount

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

`stock_items` holds each class's capacity (NULL: unlimited) and how many places are taken;
`places` are the reservations of orders (held, confirmed, released); `promo_codes`,
`promo_code_uses` and `promo_buyer_uses` count who used which code (`db.stock_models`). Every
existing class gets an unlimited stock item, and every registration still pending or confirmed
its places, so the counts start true. An existing duplicate entry (one competitor holding a
class twice) keeps its place without a holder, as the unique index allows only one.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ACTIVE_PLACE = "status IN ('held', 'confirmed') AND holder IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "stock_items",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "taken >= 0 AND (capacity IS NULL OR taken <= capacity)",
            name=op.f("ck_stock_items_taken_within_capacity"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_stock_items_capacity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_stock_items_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_items")),
    )
    op.create_index(op.f("ix_stock_items_event_id"), "stock_items", ["event_id"])
    op.create_table(
        "places",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("registration_id", sa.String(64), nullable=True),
        sa.Column("stock_id", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_places_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_places_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["stock_id"], ["stock_items.id"], name=op.f("fk_places_stock_id_stock_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
    )
    op.create_index(op.f("ix_places_order_id"), "places", ["order_id"])
    op.create_index(op.f("ix_places_registration_id"), "places", ["registration_id"])
    op.create_index("ix_places_status_expires_at", "places", ["status", "expires_at"])
    op.create_table(
        "promo_codes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("percent_off_bps", sa.Integer(), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("applies_to", sa.String(32), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_buyer", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(percent_off_bps IS NULL) <> (amount_off IS NULL)",
            name=op.f("ck_promo_codes_one_kind_of_discount"),
        ),
        sa.CheckConstraint(
            "uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)",
            name=op.f("ck_promo_codes_uses_within_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_promo_codes_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        sa.UniqueConstraint("event_id", "code", name=op.f("uq_promo_codes_event_id_code")),
    )
    op.create_index(op.f("ix_promo_codes_event_id"), "promo_codes", ["event_id"])
    op.create_table(
        "promo_code_uses",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("promo_code_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_promo_code_uses_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["promo_code_id"],
            ["promo_codes.id"],
            name=op.f("fk_promo_code_uses_promo_code_id_promo_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_code_uses")),
        sa.UniqueConstraint(
            "promo_code_id", "order_id", name=op.f("uq_promo_code_uses_promo_code_id_order_id")
        ),
    )
    op.create_index(op.f("ix_promo_code_uses_order_id"), "promo_code_uses", ["order_id"])
    op.create_index(op.f("ix_promo_code_uses_promo_code_id"), "promo_code_uses", ["promo_code_id"])
    op.create_table(
        "promo_buyer_uses",
        sa.Column("promo_code_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_promo_buyer_uses_uses_not_negative")),
        sa.ForeignKeyConstraint(
            ["promo_code_id"],
            ["promo_codes.id"],
            name=op.f("fk_promo_buyer_uses_promo_code_id_promo_codes"),
        ),
        sa.PrimaryKeyConstraint("promo_code_id", "buyer_id", name=op.f("pk_promo_buyer_uses")),
    )
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("discount", sa.BigInteger(), server_default="0", nullable=False))
    _backfill()
    op.create_index(
        "ux_places_active_holder",
        "places",
        ["stock_id", "holder"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_PLACE),
        postgresql_where=sa.text(ACTIVE_PLACE),
    )


def _backfill() -> None:
    """Unlimited stock for every class; places for every registration still held."""
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO stock_items (id, event_id, kind, capacity, taken)"
            " SELECT 'class:' || id, event_id, 'class', NULL, 0 FROM competition_classes"
        )
    )
    rows = bind.execute(
        sa.text(
            "SELECT r.id, r.order_id, r.competitor_id, r.class_ids, r.status"
            " FROM registrations r JOIN orders o ON o.id = r.order_id"
            " WHERE r.status IN ('pending', 'confirmed')"
            # A paid entry keeps the holder before an unpaid one of the same competitor.
            " ORDER BY CASE WHEN r.status = 'confirmed' THEN 0 ELSE 1 END, r.created_at, r.id"
        )
    ).all()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite stores naive UTC (db.models.UTCDateTime)
    holders: set[tuple[str, str]] = set()
    taken: dict[str, int] = {}
    places = sa.table(
        "places",
        sa.column("id"),
        sa.column("order_id"),
        sa.column("registration_id"),
        sa.column("stock_id"),
        sa.column("holder"),
        sa.column("quantity"),
        sa.column("status"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    for reg_id, order_id, competitor, class_ids, status in rows:
        ids = json.loads(class_ids) if isinstance(class_ids, str) else class_ids
        for class_id in ids:
            stock = f"class:{class_id}"
            holder: str | None = competitor
            if (stock, competitor) in holders:
                holder = None
            holders.add((stock, competitor))
            taken[stock] = taken.get(stock, 0) + 1
            bind.execute(
                places.insert().values(
                    id=str(uuid.uuid4()),
                    order_id=order_id,
                    registration_id=reg_id,
                    stock_id=stock,
                    holder=holder,
                    quantity=1,
                    status="confirmed" if status == "confirmed" else "held",
                    created_at=now,
                    updated_at=now,
                )
            )
    # A held place expires with its order; copied in SQL, as each database stores it.
    bind.execute(
        sa.text(
            "UPDATE places SET expires_at = (SELECT o.expires_at FROM orders o"
            " WHERE o.id = places.order_id) WHERE status = 'held'"
        )
    )
    for stock, count in taken.items():
        bind.execute(
            sa.text("UPDATE stock_items SET taken = :n WHERE id = :id"), {"n": count, "id": stock}
        )


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("discount")
    op.drop_table("promo_buyer_uses")
    op.drop_table("promo_code_uses")
    op.drop_index("ux_places_active_holder", table_name="places")
    op.drop_table("places")
    op.drop_table("promo_codes")
    op.drop_table("stock_items")
