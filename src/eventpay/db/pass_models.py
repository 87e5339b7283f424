"""Spectator passes with capacity per day, and VIP upgrades: their tables.

`pass_types` are what an event sells at the gate: a name, a unit price (minor units of the
event's currency) and the days admitted to (a JSON list of ISO dates). The gate's capacity per
day and the VIP capacity are not here: they are `stock_items` rows (`gate:<event>:<date>`,
`vip:<event>`), counted by the same conditional update as every other place
(`db.stock_models`). `vip_prices` holds each class's full VIP entry price; a class without a
row offers no upgrade. An upgrade itself is a place on `vip:<event>` whose holder is the
registration's id, so the places' unique holder index makes a second upgrade impossible.

Both tables follow their event: deleting an event (allowed only before any order) deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, JsonType, UTCDateTime


class PassTypeRow(Base):
    """A kind of spectator pass: its unit price and the event days it admits to."""

    __tablename__ = "pass_types"
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[list[str]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class VipPriceRow(Base):
    """A class's full VIP entry price (what an upgrade of it is charged against)."""

    __tablename__ = "vip_prices"
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)
    class_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    price: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(128))
