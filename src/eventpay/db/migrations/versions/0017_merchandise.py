"""Merchandise with variants, stock and shipping

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

`merch_products` (an event's products: flat shipping rate and/or pick-up), `merch_variants`
(sizes and colours, each with a price and a SKU unique within its product) and
`merch_deliveries` (each merchandise item of an order: variant, quantity, pick-up or the
address it ships to), as `db.merch_models` describes them. A variant's stock is a
`stock_items` row (`variant:<id>`), created with the variant.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merch_products",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("shipping_flat_rate", sa.BigInteger(), nullable=True),
        sa.Column("pickup", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "shipping_flat_rate IS NOT NULL OR pickup",
            name=op.f("ck_merch_products_shipped_or_picked_up"),
        ),
        sa.CheckConstraint(
            "shipping_flat_rate IS NULL OR shipping_flat_rate >= 0",
            name=op.f("ck_merch_products_flat_rate_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_merch_products_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merch_products")),
    )
    op.create_index(op.f("ix_merch_products_event_id"), "merch_products", ["event_id"])
    op.create_table(
        "merch_variants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("sku_key", sa.String(64), nullable=False),
        sa.Column("size", sa.String(32), nullable=True),
        sa.Column("colour", sa.String(32), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_merch_variants_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            name=op.f("fk_merch_variants_product_id_merch_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merch_variants")),
        sa.UniqueConstraint(
            "product_id", "sku_key", name=op.f("uq_merch_variants_product_id_sku_key")
        ),
    )
    op.create_index(op.f("ix_merch_variants_product_id"), "merch_variants", ["product_id"])
    op.create_table(
        "merch_deliveries",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("line1", sa.String(200), nullable=True),
        sa.Column("line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("postal_code", sa.String(16), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_merch_deliveries_quantity_positive")),
        sa.CheckConstraint(
            "method IN ('pickup', 'ship')", name=op.f("ck_merch_deliveries_known_method")
        ),
        sa.CheckConstraint(
            "method = 'pickup' OR (name IS NOT NULL AND line1 IS NOT NULL AND city IS NOT NULL"
            " AND postal_code IS NOT NULL AND country IS NOT NULL)",
            name=op.f("ck_merch_deliveries_shipped_with_address"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_merch_deliveries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_merch_deliveries_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            name=op.f("fk_merch_deliveries_product_id_merch_products"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["merch_variants.id"],
            name=op.f("fk_merch_deliveries_variant_id_merch_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merch_deliveries")),
    )
    op.create_index(op.f("ix_merch_deliveries_order_id"), "merch_deliveries", ["order_id"])
    op.create_index(op.f("ix_merch_deliveries_event_id"), "merch_deliveries", ["event_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_merch_deliveries_event_id"), table_name="merch_deliveries")
    op.drop_index(op.f("ix_merch_deliveries_order_id"), table_name="merch_deliveries")
    op.drop_table("merch_deliveries")
    op.drop_index(op.f("ix_merch_variants_product_id"), table_name="merch_variants")
    op.drop_table("merch_variants")
    op.drop_index(op.f("ix_merch_products_event_id"), table_name="merch_products")
    op.drop_table("merch_products")
