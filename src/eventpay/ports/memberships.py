"""Membership subscriptions: the stored row per user and provider subscription, and its port.

A subscription row keeps what the providers' facts established (``domain.memberships``'s merged
``Membership``), never a status: the status follows from the merge and the instant asked about.
The ``memberships`` validity-window table that pricing reads (``CatalogRepository.is_member``)
is this row's projection, rewritten with the row (``project``): one window per subscription,
ending when member pricing ends if nothing more is paid.

What must not live here: how facts merge (domain), provider calls, SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventpay.domain.memberships import Membership
from eventpay.ports.identity import ProviderName


@dataclass
class SubscriptionRecord:
    """One provider subscription of a user; ``state`` is the merge of every fact so far."""

    id: str
    user_id: str
    provider: ProviderName
    provider_subscription_id: str
    tier_code: str
    state: Membership
    created_at: datetime
    updated_at: datetime


@dataclass
class ChargeRecord:
    """A provider charge that paid a membership invoice: what the provider kept of it
    (``fee``, None until read), what was refunded of it, and its dispute's status if any."""

    id: str
    provider: ProviderName
    ref: str
    payment_ref: str
    amount: int
    currency: str
    created_at: datetime
    fee: int | None = None
    fee_checks: int = 0
    fee_check_at: datetime | None = None
    refunded: int = 0
    dispute_status: str | None = None


class MembershipRepository(Protocol):
    def add(self, record: SubscriptionRecord) -> None: ...
    def save(self, record: SubscriptionRecord) -> None: ...
    def get(
        self, subscription_id: str, *, for_update: bool = False
    ) -> SubscriptionRecord | None: ...
    def by_provider_id(
        self, provider: ProviderName, provider_subscription_id: str, *, for_update: bool = False
    ) -> SubscriptionRecord | None: ...
    def for_user(self, user_id: str) -> list[SubscriptionRecord]:
        """The user's subscriptions, newest first."""
        ...

    def claim_subscribe(self, user_id: str, *, until: datetime, now: datetime) -> bool:
        """Claim the user's subscribe step until `until`, unless a claim still runs at `now`;
        one conditional statement, so two concurrent requests get one claim."""
        ...

    def release_subscribe(self, user_id: str) -> None: ...

    def record_charge(
        self,
        provider: ProviderName,
        *,
        ref: str,
        payment_ref: str,
        amount: int,
        currency: str,
        at: datetime,
    ) -> bool:
        """Remember a charge that paid a membership invoice; False when it was known."""
        ...

    def charge(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> ChargeRecord | None:
        """The charge whose ``ref`` (the charge) or ``payment_ref`` (its PaymentIntent) is
        ``ref``."""
        ...

    def save_charge(self, charge: ChargeRecord) -> None: ...
    def charges_since(self, provider: ProviderName, *, since: datetime) -> list[ChargeRecord]:
        """The provider's membership charges recorded at or after ``since``, oldest first
        (every recorded charge was paid: reconciliation's side of them)."""
        ...

    def charges_without_fee(
        self, provider: ProviderName, *, now: datetime, created_after: datetime, limit: int
    ) -> list[ChargeRecord]:
        """Charges whose fee is still unknown and due to be read, longest due first."""
        ...

    def project(
        self, subscription_id: str, *, user_id: str, valid_from: datetime, valid_until: datetime
    ) -> None:
        """Set the subscription's member-pricing window (an empty one when ``valid_until`` is
        not after ``valid_from``)."""
        ...
