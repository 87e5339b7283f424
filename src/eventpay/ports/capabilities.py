"""Optional provider capabilities beyond taking and refunding payments.

A provider that can pay organizers out, answer disputes or send invoices implements the
matching protocol and says so in its `Capabilities`. The flows that use these (organizer
payouts, dispute handling, invoiced sponsor packages) build on these values; providers return
them and never decide anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from eventpay.domain import Money
from eventpay.domain.membership_status import DunningPolicy
from eventpay.domain.membership_tiers import MembershipTier
from eventpay.domain.memberships import MembershipFact
from eventpay.domain.reconciliation import Movement, MovementRow


@dataclass(frozen=True, slots=True)
class PayoutItem:
    item_id: str  # ours: becomes the provider's sender_item_id
    receiver: str  # e-mail or provider account id
    amount: Money
    note: str = ""


class PayoutOutcome(StrEnum):
    """Where a payout item's money is, whatever the provider's own word for it."""

    PENDING = "pending"  # not decided yet
    PAID = "paid"  # with the receiver
    UNCLAIMED = "unclaimed"  # left us; the provider returns it if nobody claims it
    RETURNED = "returned"  # back in our balance after it had left
    FAILED = "failed"  # never left


@dataclass(frozen=True, slots=True)
class PayoutItemStatus:
    item_id: str
    provider_item_id: str | None
    status: str  # the provider's word: SUCCESS, UNCLAIMED, PENDING, FAILED, ...
    amount: Money
    outcome: PayoutOutcome = PayoutOutcome.PENDING  # where the money is, in our words
    reason: str | None = None  # why it failed, in the provider's words


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    batch_id: str  # ours: the provider's sender_batch_id (idempotency)
    provider_batch_id: str
    status: str  # PENDING, PROCESSING, SUCCESS, DENIED, ...
    items: Sequence[PayoutItemStatus] = ()


@dataclass(frozen=True, slots=True)
class PayoutItemUpdate:
    """One payout item as the provider last reported it (a webhook or a read)."""

    provider_item_id: str
    provider_batch_id: str
    item_id: str | None  # ours: the item's sender_item_id
    batch_id: str | None  # ours: the batch's sender_batch_id, when the provider includes it
    status: str  # the provider's word
    outcome: PayoutOutcome
    amount: Money | None
    fee: Money | None
    transaction_id: str | None  # the provider's transaction, when money moved
    reason: str | None = None  # the provider's reason for a failure: RECEIVER_UNREGISTERED, ...


class PayoutProvider(Protocol):
    payout_key_window: timedelta
    """How long the provider remembers a batch's idempotency key: a batch whose answer was lost
    may be sent again blind only within it (after it, a resend could pay a second time)."""

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch: ...
    def get_payout(self, provider_batch_id: str) -> PayoutBatch: ...
    def get_payout_item(self, provider_item_id: str) -> PayoutItemUpdate:
        """One item in full: status, outcome, fee; the same value its webhooks give."""
        ...

    def parse_payout_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> PayoutItemUpdate | None:
        """The item update a verified payouts webhook carries; None for any other event."""
        ...


@dataclass(frozen=True, slots=True)
class Dispute:
    dispute_id: str
    capture_id: str | None
    reason: str
    status: str  # OPEN, WAITING_FOR_SELLER_RESPONSE, UNDER_REVIEW, RESOLVED, OTHER
    amount: Money
    created_at: datetime | None = None
    outcome: str | None = None


class DisputeProvider(Protocol):
    def list_disputes(self) -> Sequence[Dispute]: ...
    def get_dispute(self, dispute_id: str) -> Dispute: ...
    def provide_evidence(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute: ...
    def accept_claim(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute: ...


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    name: str
    quantity: int
    unit_amount: Money


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    invoice_number: str  # ours, unique: the provider refuses duplicates
    recipient_email: str
    lines: Sequence[InvoiceLine]
    note: str = ""
    due_date: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    invoice_number: str
    status: str  # DRAFT, SENT, PAID, CANCELLED, ...
    amount: Money
    links: dict[str, str] = field(default_factory=dict)


class MovementSource(Protocol):
    """A provider that lists its own record of money movements (Stripe balance transactions,
    PayPal transaction search), for reconciliation (`Capabilities.reconciliation`)."""

    def movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """The payments and refunds it lists in [since, until): amounts signed from the
        platform's side (+ in, - out), `fee` what the provider kept of a payment."""
        ...


@runtime_checkable
class MovementReport(Protocol):
    """A `MovementSource` that can also hand over a whole period at once, from a report file
    (Stripe's Reports API) rather than page by page: the same movements, as plain rows."""

    def movement_rows(self, *, since: datetime, until: datetime) -> Iterator[MovementRow]: ...


@runtime_checkable
class OrganizerMovementSource(Protocol):
    """A `MovementSource` that also lists the money that left for organizers: Stripe's
    transfers to connected accounts and their reversals, PayPal's payout items and returns."""

    def organizer_movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """Those created in [since, until), signed from the platform's side, each with the
        provider's `related` link where it has one."""
        ...


class InvoiceProvider(Protocol):
    def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice: ...
    def send_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice: ...
    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice: ...
    def get_invoice(self, invoice_id: str) -> Invoice: ...


# ---------------------------------------------------------------------------- subscriptions


@dataclass(frozen=True, slots=True)
class SubscriptionStart:
    """A subscription just created: the buyer finishes it with ``client_secret`` (Stripe: the
    first invoice's PaymentIntent, confirmed like any card payment, 3-D Secure included) or at
    ``approve_url`` (PayPal)."""

    provider_subscription_id: str
    client_secret: str | None = None
    approve_url: str | None = None


@dataclass(frozen=True, slots=True)
class TierChange:
    """A tier change the provider took: in effect (Stripe, prorated), or waiting for the buyer
    to approve it at ``approve_url`` (PayPal revises a plan only with the buyer's consent)."""

    approve_url: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    """What one provider event says about a membership subscription: its facts (the domain's
    mappers made them), and the money a paid invoice or sale brought (``payment_ref`` unique
    per provider)."""

    provider_subscription_id: str
    facts: tuple[MembershipFact, ...]
    payment_ref: str | None = None
    amount: Money | None = None
    charge_ref: str | None = None
    """The provider's charge, when the event itself is the money's movement (a PayPal sale);
    Stripe's charge comes with its PaymentIntent's event instead."""
    fee: Money | None = None
    """What the provider kept of the charge, when the event says (PayPal's sale does)."""


@dataclass(frozen=True, slots=True)
class ChargeEvent:
    """What happened to a charge after it paid an invoice: a refund (``kind`` ``refund``,
    ``ref`` the refund) or a dispute (``dispute``, ``ref`` the dispute), with its provider
    ``status``; ``charge_ref`` names the charge or its payment (either may match)."""

    kind: str
    ref: str
    charge_ref: str
    status: str
    amount: Money | None = None
    reason: str | None = None


class SubscriptionProvider(Protocol):
    """Recurring memberships: one product and price (or plan) per tier, kept by the adapter."""

    def start_subscription(
        self,
        *,
        user_id: str,
        tier: MembershipTier,
        return_url: str | None,
        cancel_url: str | None,
        idempotency_key: str,
    ) -> SubscriptionStart: ...
    def cancel_at_period_end(
        self, provider_subscription_id: str, *, idempotency_key: str
    ) -> None: ...
    def change_tier(
        self, provider_subscription_id: str, tier: MembershipTier, *, idempotency_key: str
    ) -> TierChange: ...
    def subscription_to_read(self, event_type: str, payload: Mapping[str, Any]) -> str | None:
        """The subscription to read from the provider before the event can be parsed (PayPal's
        events do not carry its plan); None when the event needs no read. No I/O."""
        ...

    def read_subscription(self, provider_subscription_id: str) -> Mapping[str, Any]:
        """The subscription as the provider has it now: called with no transaction open."""
        ...

    def parse_subscription_event(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        read: Mapping[str, Any] | None = None,
    ) -> SubscriptionEvent | None:
        """The event's membership meaning (``read``: the subscription `subscription_to_read`
        asked for); None for events about no subscription. No I/O."""
        ...

    def parse_charge_event(self, event_type: str, payload: Mapping[str, Any]) -> ChargeEvent | None:
        """A refund or dispute of some charge; None for other events. Whether the charge paid a
        membership is for the caller to find."""
        ...

    def is_subscription_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        """Whether a payment event is about a subscription's invoice (its invoice events
        carry the meaning; the payment itself moves no order)."""
        ...


SUBSCRIPTIONS = "subscriptions"
"""The attribute under which a payment provider exposes its `MembershipBilling`."""


@dataclass(frozen=True, slots=True)
class MembershipBilling:
    """A provider's subscriptions, with the platform's tiers and dunning policy they sell."""

    gateway: SubscriptionProvider
    tiers: tuple[MembershipTier, ...]
    policy: DunningPolicy


def subscriptions_of(provider: object) -> MembershipBilling | None:
    """The provider's memberships capability, or None when it sells no memberships."""
    found: MembershipBilling | None = getattr(provider, SUBSCRIPTIONS, None)
    return found
