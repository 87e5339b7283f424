"""SQLAlchemy table mappings. Nothing outside `eventpay.db` sees these classes.

The same schema runs on SQLite (the embedded default) and PostgreSQL (production, tests): money
is integer minor units plus a currency column, timestamps are stored as UTC, JSON uses JSONB on
PostgreSQL. The seed's `payments` and `payment_audit_log` tables are here with the seed's column
names; amounts are integers rather than DECIMAL because floats and decimals of major units are
how minor units get lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite too (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# A platform fee policy of its own (`domain.FeePolicy`), on an organizer or an event: all four
# columns or none (NULL: the next policy up applies). The percent is in hundredths of a percent
# (290 = 2.9 %), exact on every database.
FEE_POLICY_WHOLE = (
    "(fee_percent_bps IS NULL AND fee_fixed_minor IS NULL AND fee_payer IS NULL"
    " AND fee_rounding IS NULL) OR (fee_percent_bps IS NOT NULL AND fee_fixed_minor IS NOT NULL"
    " AND fee_payer IS NOT NULL AND fee_rounding IS NOT NULL)"
)


class OrganizerRow(Base):
    __tablename__ = "organizers"
    __table_args__ = (CheckConstraint(FEE_POLICY_WHOLE, name="fee_policy_whole"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fee_percent_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_fixed_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_payer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fee_rounding: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Where payouts go (PayPal Payouts), and an admin's hold on them (audited).
    paypal_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    payouts_on_hold: Mapped[bool] = mapped_column(Boolean, server_default=false())
    payouts_hold_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (CheckConstraint(FEE_POLICY_WHOLE, name="fee_policy_whole"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organizer_id: Mapped[str] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refund_cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Hundredths of a percent (2000 = 20 %), exact on every database; NULL: no late refunds.
    late_refund_fee_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fee_percent_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_fixed_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_payer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fee_rounding: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    payout_reserve_days: Mapped[int] = mapped_column(Integer, server_default="7")
    # (ends_at or starts_at) + payout_reserve_days, kept on every write so the payable still
    # held can be selected in SQL; an admin may release the reserve earlier (audited).
    reserve_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reserve_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CompetitionClassRow(Base):
    __tablename__ = "competition_classes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    member_price: Mapped[int] = mapped_column(BigInteger)
    non_member_price: Mapped[int] = mapped_column(BigInteger)
    additional_class_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    early_bird_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    early_bird_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MembershipRow(Base):
    __tablename__ = "memberships"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(128), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    organizer_net: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    organizer_shares: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    class_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    price_rule: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # This line's share of the order's discount (a promo code), in the order's minor units.
    discount: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RegistrationRow(Base):
    __tablename__ = "registrations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    competitor_id: Mapped[str] = mapped_column(String(128), index=True)
    class_ids: Mapped[list[str]] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PaymentRow(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_status_next_check_at", "status", "next_check_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(
        String(255), nullable=True, unique=True
    )
    paypal_order_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_received: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(50), index=True)
    failure_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    failure_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    capture_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    return_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The janitor selects exactly the due attempts by (status, next_check_at).
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, server_default="0")


class RefundRow(Base):
    __tablename__ = "refunds"
    # One row per refund at the provider, however often its events arrive (NULLs: not sent yet).
    __table_args__ = (
        UniqueConstraint("provider", "provider_refund_id"),
        Index("ix_refunds_status_next_check_at", "status", "next_check_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32), server_default="customer")
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, server_default="0")
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LedgerTransactionRow(Base):
    """One balanced ledger transaction; its cause is unique (a retry can never post twice)."""

    __tablename__ = "ledger_transactions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cause: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerPostingRow(Base):
    """An amount on an account (debit positive, credit negative), part of one transaction."""

    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account", "kind", "owner", "currency"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    owner: Mapped[str] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class PayoutRow(Base):
    """One payment to one organizer in one currency; at most one per organizer, currency and
    period, whichever of several concurrent runs gets there first."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("organizer_id", "currency", "period"),
        UniqueConstraint("provider", "provider_item_id"),
        Index("ix_payouts_status_next_check_at", "status", "next_check_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organizer_id: Mapped[str] = mapped_column(ForeignKey("organizers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    batch_id: Mapped[str] = mapped_column(String(128))
    provider_batch_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provider_item_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provider_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    transaction_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, server_default="0")


class ReconciliationRunRow(Base):
    __tablename__ = "reconciliation_runs"
    __table_args__ = (Index("ix_reconciliation_runs_provider_finished", "provider", "finished_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ours: Mapped[int] = mapped_column(Integer)
    theirs: Mapped[int] = mapped_column(Integer)
    mismatches: Mapped[int] = mapped_column(Integer)


class ReconciliationMismatchRow(Base):
    __tablename__ = "reconciliation_mismatches"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("reconciliation_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(255))
    our_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ours: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    theirs: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    detail: Mapped[str] = mapped_column(String(500))


class PaymentAuditLogRow(Base):
    __tablename__ = "payment_audit_log"
    __table_args__ = (Index("ix_payment_audit_log_entity", "entity_type", "entity_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str | None] = mapped_column(
        ForeignKey("payments.id"), nullable=True, index=True
    )
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEventRow(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        Index("ix_webhook_events_due", "status", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IdempotencyKeyRow(Base):
    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
