"""Storage of organizer payouts: one row per payout, and what a payout run reads to plan them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventpay.domain import Money
from eventpay.domain.ledger import Posting
from eventpay.domain.payouts import PayoutStatus


@dataclass(slots=True)
class PayoutRecord:
    id: str
    organizer_id: str
    amount: Money
    provider: str  # the rail that pays it: "paypal"
    destination: str  # where: the organizer's PayPal address
    status: PayoutStatus
    period: str  # the run's period: at most one payout per organizer, currency and period
    run_id: str
    batch_id: str  # ours: the provider batch it is sent in (PayPal's sender_batch_id)
    created_at: datetime
    updated_at: datetime
    next_check_at: datetime
    checks: int = 0
    provider_batch_id: str | None = None
    provider_item_id: str | None = None
    provider_status: str | None = None  # the provider's own word, shown to the organizer
    transaction_id: str | None = None
    fee: Money | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PayableFigures:
    """One organizer's figures in one currency, in minor units."""

    payable: int = 0  # what the ledger says the platform owes them
    in_transit: int = 0  # payouts sent, not settled
    reserved: int = 0  # owed for orders of events still in their reserve period
    transfers_pending: int = 0  # Stripe Connect transfers not sent yet
    transfers_failed: int = 0  # Stripe Connect transfers refused, waiting for a person


@dataclass(frozen=True, slots=True)
class ReserveHold:
    """What one event's orders earned an organizer that is held until its reserve ends."""

    event_id: str
    event_name: str
    until: datetime
    amount: Money


@dataclass(frozen=True, slots=True)
class PayoutSettings:
    """How an organizer is paid, and whether an admin holds their payouts."""

    organizer_id: str
    paypal_email: str | None
    on_hold: bool
    hold_reason: str | None


class PayoutRepository(Protocol):
    def claim(self, payout: PayoutRecord) -> bool:
        """Insert `payout` unless its organizer already has one for its currency and period
        (another run won): False then, and nothing is written. The unit of work stays usable."""
        ...

    def get(self, payout_id: str, *, for_update: bool = False) -> PayoutRecord | None: ...
    def find_by_item(self, provider: str, provider_item_id: str) -> PayoutRecord | None: ...
    def save(self, payout: PayoutRecord) -> None: ...
    def list_for_organizer(self, organizer_id: str) -> Sequence[PayoutRecord]:
        """Newest first."""
        ...

    def list_batch(self, batch_id: str) -> Sequence[PayoutRecord]: ...
    def list_due(
        self, *, now: datetime, statuses: Sequence[PayoutStatus]
    ) -> Sequence[PayoutRecord]:
        """Exactly the payouts in `statuses` whose next check is due, longest-due first."""
        ...

    def owed(self, *, organizer_ids: Sequence[str] | None = None) -> Sequence[tuple[str, str]]:
        """(organizer, currency) pairs whose payable or in-transit balance is not zero, from
        the ledger, in order; only `organizer_ids` when given."""
        ...

    def figures(self, organizer_id: str, *, now: datetime) -> Mapping[str, PayableFigures]:
        """What the organizer's payout position is made of, by currency, read at one moment
        (one statement: nothing committed meanwhile is seen half)."""
        ...

    def reserve_holds(self, organizer_id: str, *, now: datetime) -> Sequence[ReserveHold]:
        """The reserves holding the organizer's money now, by event (an order of several of
        their events under the last to end), soonest released first."""
        ...

    def with_postings(self) -> Sequence[tuple[PayoutRecord | None, str, Sequence[Posting]]]:
        """Every payout with the postings of its ledger transactions (`payout:<id>:...`), and
        postings naming a payout that does not exist (None, its id), by payout id."""
        ...

    def lock_organizer(self, organizer_id: str) -> None:
        """Serialize payout planning per organizer until the unit of work ends: two runs (of
        any periods) never both see the same money as available. Call it first."""
        ...

    def settings(self, organizer_id: str) -> PayoutSettings | None: ...
    def set_hold(self, organizer_id: str, *, on_hold: bool, reason: str | None) -> None: ...
    def release_reserve(self, event_id: str, *, at: datetime) -> bool:
        """Mark the event's reserve released at `at`; False when it already was."""
        ...
