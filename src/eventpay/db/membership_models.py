"""Membership subscriptions: their table.

`membership_subscriptions` holds one row per provider subscription (Stripe or PayPal; the
provider's id unique per provider): the user, the tier signed up for, and `state`, the JSON of
the merged facts (`domain.memberships.Membership`, written by `db.membership_repository`).
`paid_through` and `member_until` copy two values out of that merge for queries and listings;
the status is never stored. The `memberships` table (`db.models.MembershipRow`) is the
projection pricing reads: the row `sub:<id>` is this subscription's member-pricing window.
`membership_charges` are the provider charges that paid membership invoices, one per charge;
`membership_claims` lets one subscribe request per user talk to the provider at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, UTCDateTime


class MembershipSubscriptionRow(Base):
    """One provider subscription of a user and what its facts established."""

    __tablename__ = "membership_subscriptions"
    __table_args__ = (UniqueConstraint("provider", "provider_subscription_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_subscription_id: Mapped[str] = mapped_column(String(128))
    tier_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(Text)
    paid_through: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    member_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MembershipChargeRow(Base):
    """A provider's charge that paid a membership invoice or sale, as its payment event named
    it: what `eventpay reconcile` matches the provider's movement against."""

    __tablename__ = "membership_charges"
    __table_args__ = (UniqueConstraint("provider", "ref"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(255))  # the charge (Stripe) or sale (PayPal) id
    payment_ref: Mapped[str] = mapped_column(String(255))  # its PaymentIntent, when Stripe
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Added by 0020: the provider's fee once read, when to read it next, what was refunded,
    # and the latest status of a dispute of the charge.
    fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fee_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dispute_status: Mapped[str | None] = mapped_column(String(32), nullable=True)


class MembershipClaimRow(Base):
    """A subscribe request in flight for a user, until `claimed_until`: a second one at the
    same time is refused instead of starting a second subscription at the provider."""

    __tablename__ = "membership_claims"
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    claimed_until: Mapped[datetime] = mapped_column(UTCDateTime())
