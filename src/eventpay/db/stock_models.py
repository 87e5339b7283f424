"""Places and promotions: what can be sold only so many times, and who holds it.

`stock_items` has one row per thing with a number of places (a competition class today; team
slots, pass days and merchandise variants use the same rows): its `capacity` (NULL: unlimited)
and `taken`, the places held by unexpired reservations plus those confirmed. A reservation takes
places with one conditional `UPDATE ... SET taken = taken + n WHERE taken + n <= capacity`, so
the database, not a read-then-write in Python, decides who gets the last place; the check
constraint `taken_within_capacity` refuses any write that would oversell even so.

`places` are the reservations themselves: an order's claim on a stock item, `held` until it
expires, `confirmed` once the order is paid, `released` when it expires unpaid, is cancelled or
refunded. A place may name its `holder` (the competitor entered in a class): the partial unique
index `ux_places_active_holder` lets one competitor hold a class once, across all orders.

`promo_codes` count their uses the same way (`uses` against `max_uses`), and
`promo_buyer_uses` counts each buyer's, so two buyers racing for the last use get one winner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, UTCDateTime

ACTIVE_PLACE = "status IN ('held', 'confirmed') AND holder IS NOT NULL"


class StockItemRow(Base):
    """Something with places: its capacity (NULL: unlimited) and how many are taken."""

    __tablename__ = "stock_items"
    __table_args__ = (
        CheckConstraint(
            "taken >= 0 AND (capacity IS NULL OR taken <= capacity)", name="taken_within_capacity"
        ),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    taken: Mapped[int] = mapped_column(Integer, server_default="0")


class PlaceRow(Base):
    """An order's reservation of `quantity` places of one stock item."""

    __tablename__ = "places"
    __table_args__ = (
        Index(
            "ux_places_active_holder",
            "stock_id",
            "holder",
            unique=True,
            sqlite_where=text(ACTIVE_PLACE),
            postgresql_where=text(ACTIVE_PLACE),
        ),
        Index("ix_places_status_expires_at", "status", "expires_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    registration_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    stock_id: Mapped[str] = mapped_column(ForeignKey("stock_items.id"))
    holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromoCodeRow(Base):
    """A promo code of one event: percent or amount off, its window and its usage limits."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint(
            "(percent_off_bps IS NULL) <> (amount_off IS NULL)", name="one_kind_of_discount"
        ),
        CheckConstraint(
            "uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="uses_within_limit"
        ),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    percent_off_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_off: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    applies_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_uses_per_buyer: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, server_default="0")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PromoCodeUseRow(Base):
    """One order's use of a promo code: `active`, or `released` when the order was not paid."""

    __tablename__ = "promo_code_uses"
    __table_args__ = (UniqueConstraint("promo_code_id", "order_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    promo_code_id: Mapped[str] = mapped_column(ForeignKey("promo_codes.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(String(128))
    discount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PromoBuyerUseRow(Base):
    """How many active uses of a promo code one buyer holds (for `max_uses_per_buyer`)."""

    __tablename__ = "promo_buyer_uses"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)
    promo_code_id: Mapped[str] = mapped_column(ForeignKey("promo_codes.id"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, server_default="0")
