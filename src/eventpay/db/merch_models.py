"""Merchandise with variants, stock and shipping: their tables.

`merch_products` are what an event sells besides entries: a name, a flat shipping rate (minor
units of the event's currency; NULL: not shipped) and whether it may be picked up at the event,
at least one of the two. `merch_variants` are its sizes and colours, each with its own price and
SKU (unique within the product). A variant's stock is not here: it is the `stock_items` row
`variant:<variant_id>` (`db.stock_models`), taken by the same conditional update as every
other place. Products and variants follow their event: deleting an event (allowed only before
any order) deletes them.

`merch_deliveries` is one row per merchandise item of an order: which variant, how many, and
picked up or shipped to which address, for the organizer's fulfilment list.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, UTCDateTime


class MerchProductRow(Base):
    """A product of an event: how it reaches the buyer (shipping, pick-up or both)."""

    __tablename__ = "merch_products"
    __table_args__ = (
        CheckConstraint("shipping_flat_rate IS NOT NULL OR pickup", name="shipped_or_picked_up"),
        CheckConstraint(
            "shipping_flat_rate IS NULL OR shipping_flat_rate >= 0",
            name="flat_rate_not_negative",
        ),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    shipping_flat_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pickup: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MerchVariantRow(Base):
    """A size or colour of a product, with its own price."""

    __tablename__ = "merch_variants"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        UniqueConstraint("product_id", "sku_key"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("merch_products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    sku_key: Mapped[str] = mapped_column(String(64))  # case-folded: one spelling per product
    size: Mapped[str | None] = mapped_column(String(32), nullable=True)
    colour: Mapped[str | None] = mapped_column(String(32), nullable=True)
    price: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)


class MerchDeliveryRow(Base):
    """One merchandise item of an order and how it reaches its buyer."""

    __tablename__ = "merch_deliveries"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("method IN ('pickup', 'ship')", name="known_method"),
        CheckConstraint(
            "method = 'pickup' OR (name IS NOT NULL AND line1 IS NOT NULL AND city IS NOT NULL"
            " AND postal_code IS NOT NULL AND country IS NOT NULL)",
            name="shipped_with_address",
        ),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("merch_products.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("merch_variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    line1: Mapped[str | None] = mapped_column(String(200), nullable=True)
    line2: Mapped[str | None] = mapped_column(String(200), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
