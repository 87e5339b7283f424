"""Membership subscriptions: their table.

`membership_subscriptions` holds one row per provider subscription (Stripe or PayPal; the
provider's id unique per provider): the user, the tier signed up for, and `state`, the JSON of
the merged facts (`domain.memberships.Membership`, written by `db.membership_repository`).
`paid_through` and `member_until` copy two values out of that merge for queries and listings;
the status is never stored. The `memberships` table (`db.models.MembershipRow`) is the
projection pricing reads: the row `sub:<id>` is this subscription's member-pricing window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
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
