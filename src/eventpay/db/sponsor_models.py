"""Sponsor packages, the sponsorships invoiced for them, and the payments those received.

`sponsor_packages` are an event's offers (title, class or booth; price; how many can be sold:
the stock item `sponsor:<package id>` holds that count, so the places port refuses the one too
many). `sponsorships` are the invoices issued for them (the provider's invoice id unique per
provider); `sponsorship_payments` records each payment an invoice received once, by the
provider's own payment id (on Stripe its charge), with the provider's fee once read (0021).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, UTCDateTime


class SponsorPackageRow(Base):
    __tablename__ = "sponsor_packages"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SponsorshipRow(Base):
    __tablename__ = "sponsorships"
    __table_args__ = (UniqueConstraint("provider", "provider_invoice_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    package_id: Mapped[str] = mapped_column(String(64), index=True)
    sponsor_name: Mapped[str] = mapped_column(String(200))
    sponsor_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16))
    provider_invoice_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    invoice_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SponsorshipPaymentRow(Base):
    __tablename__ = "sponsorship_payments"
    __table_args__ = (UniqueConstraint("provider", "payment_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sponsorship_id: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    payment_ref: Mapped[str] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fee_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
