"""Stripe Connect tables: organizers' connected accounts, payments' Connect side, transfers.

Kept apart from `models.py` (one concept per module) on the same `Base`, so Alembic and the
schema check see them; `eventpay.db.models` must never import this module back. Written by
`services.connect` and `services.settlement.connect` only, through `SqlConnectRepository`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, JsonType, UTCDateTime


class ConnectedAccountRow(Base):
    """An organizer's Express account as Stripe last described it (`account.updated`)."""

    __tablename__ = "connected_accounts"
    organizer_id: Mapped[str] = mapped_column(ForeignKey("organizers.id"), primary_key=True)
    stripe_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    charges_enabled: Mapped[bool] = mapped_column(Boolean)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean)
    details_submitted: Mapped[bool] = mapped_column(Boolean)
    requirements_due: Mapped[list[str]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Stripe's time (Unix seconds) of the state stored: events arrive out of order.
    state_as_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ConnectChargeRow(Base):
    """The Connect side of one payment attempt, decided when the attempt was created."""

    __tablename__ = "connect_charges"
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    organizer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    destination: Mapped[str | None] = mapped_column(String(255), nullable=True)
    application_fee: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConnectTransferRow(Base):
    """One transfer of a separate charge to an organizer's account; the janitor sends it."""

    __tablename__ = "connect_transfers"
    __table_args__ = (
        Index("ix_connect_transfers_status_next_check_at", "status", "next_check_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    organizer_id: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    transfer_group: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    provider_transfer_id: Mapped[str | None] = mapped_column(
        String(255), nullable=True, unique=True
    )
    reversed_amount: Mapped[int] = mapped_column(BigInteger, server_default="0")
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, server_default="0")


class ConnectTransferReversalRow(Base):
    """Part of a separate charge's transfer taken back after a refund; the janitor sends it
    once its transfer was sent."""

    __tablename__ = "connect_transfer_reversals"
    __table_args__ = (
        Index("ix_connect_transfer_reversals_status_next_check_at", "status", "next_check_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("connect_transfers.id"), index=True)
    refund_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    provider_reversal_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, server_default="0")
