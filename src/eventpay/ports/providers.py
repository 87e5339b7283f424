"""Payment provider protocols: payments, refunds, webhooks, and the values they return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from eventpay.domain import Money, PaymentStatus
from eventpay.ports.identity import ProviderName


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider adapter really does; a test calls every capability declared here.

    `payouts`, `disputes`, `invoicing`: the adapter implements `PayoutProvider`,
    `DisputeProvider`, `InvoiceProvider`. `client_confirmation`: the buyer's browser confirms
    (Stripe.js), so an open attempt can be paid behind our back. `payment_lookup`:
    `find_payment` can find a payment by our attempt id after its create key expired.
    `reconciliation`: the adapter implements `MovementSource` (its own list of movements).
    `idempotency_window`: how long the provider remembers an idempotency key; a request first
    sent longer ago than that is never re-sent blind (the provider is read first).
    """

    partial_refund: bool
    payouts: bool
    disputes: bool
    client_confirmation: bool
    invoicing: bool = False
    payment_lookup: bool = False
    reconciliation: bool = False
    idempotency_window: timedelta = timedelta(hours=24)
    # The adapter implements `ports.connect.ConnectProvider` (Stripe Connect).
    connect: bool = False


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One order line as a provider shows it to the buyer (PayPal's item breakdown)."""

    description: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CreatePayment:
    payment_id: str
    order_id: str
    amount: Money
    idempotency_key: str
    description: str
    metadata: Mapping[str, str]
    return_url: str | None = None
    cancel_url: str | None = None
    lines: Sequence[PaymentLine] = ()
    # Stripe Connect (ports.connect): a destination charge to this connected account keeping
    # `application_fee` (minor units); or a separate charge whose transfers share this group.
    transfer_destination: str | None = None
    application_fee: int | None = None
    transfer_group: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """What a provider says about one payment, already mapped to our states."""

    provider_ref: str
    status: PaymentStatus
    amount: Money
    amount_received: int | None = None
    client_secret: str | None = None
    approve_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The provider's id of the money movement itself (Stripe charge, PayPal capture): what a
    # refund or a dispute refers to.
    capture_id: str | None = None
    # What the provider kept as its fee on this payment, once it says (Stripe: the charge's
    # balance transaction; PayPal: the capture's seller_receivable_breakdown.paypal_fee).
    fee: Money | None = None


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """A provider event reduced to what the core needs to move one payment attempt."""

    provider_ref: str
    status: PaymentStatus
    payment_id_hint: str | None
    amount: Money | None
    amount_received: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    capture_id: str | None = None
    # PayPal: the buyer approved; the money moves only when we capture (exactly once).
    capture_required: bool = False
    fee: Money | None = None  # the provider's fee, when the event carries it


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_id: str
    payment_provider_ref: str
    capture_id: str | None
    amount: Money
    idempotency_key: str
    reason: str
    # A destination charge's refund takes the organizer's transfer and the application fee
    # back in proportion (Stripe `reverse_transfer`, `refund_application_fee`).
    reverse_transfer: bool = False
    refund_application_fee: bool = False


class ProviderRefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    provider_refund_id: str
    status: ProviderRefundStatus
    amount: Money
    failure_reason: str | None = None
    # Our refund id as the provider echoes it (Stripe metadata.refund_id, PayPal custom_id);
    # None for a refund someone made at the provider.
    refund_id_hint: str | None = None
    # The part of its fee the provider gave back with the refund (PayPal returns a share of
    # the capture's fee; Stripe keeps its fee): None when the provider does not say.
    fee_returned: Money | None = None


@dataclass(frozen=True, slots=True)
class RefundUpdate:
    """A provider event about one refund (created, settled, failed later, canceled).

    The payment it belongs to and its amount are what let the core record a refund someone
    made at the provider itself (a dashboard), which carries no id of ours.
    """

    provider_refund_id: str
    refund_id_hint: str | None  # ours, echoed back by the provider (metadata / custom_id)
    status: ProviderRefundStatus
    failure_reason: str | None = None
    # The refunded payment as the provider names it: its object (Stripe PaymentIntent) and
    # the money movement (Stripe charge, PayPal capture); either may be missing.
    payment_provider_ref: str | None = None
    capture_id: str | None = None
    amount: Money | None = None
    fee_returned: Money | None = None  # as `ProviderRefund.fee_returned`


class ProviderError(Exception):
    """Base of provider failures; `code` is safe to show and log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderOutcomeUnknown(ProviderError):
    """Timeout, connection loss or 5xx: the call may or may not have taken effect."""


class ProviderMisconfigured(ProviderOutcomeUnknown):
    """Our side is wrong: bad or rotated credentials (401), missing permission (403), no
    adapter configured for the provider. Never a definite answer about money: the item stays
    retriable and succeeds once the configuration is fixed. A subclass of
    `ProviderOutcomeUnknown` so that every caller that retries an unknown outcome also
    retries this one; callers that can say more (an audit row, `/readyz`) catch it first."""


class ProviderRejected(ProviderError):
    """The provider definitely refused the call for a documented business reason (a decline,
    an amount above what can be refunded, an unsupported currency); nothing happened there.
    Only this is a definite answer about money."""


class PaymentProvider(Protocol):
    name: ProviderName
    capabilities: Capabilities

    def create_payment(self, request: CreatePayment) -> ProviderPayment: ...
    def retrieve_payment(self, provider_ref: str) -> ProviderPayment: ...
    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment: ...
    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        """Take the money of an approved payment (PayPal); a no-op read where capture is
        automatic (Stripe). Idempotent under the same key: one capture, however often asked."""
        ...

    def refund_payment(self, request: RefundRequest) -> ProviderRefund: ...
    def retrieve_refund(self, provider_refund_id: str) -> ProviderRefund:
        """Read one refund (a pending one whose webhook may have been lost)."""
        ...

    def find_refunds(
        self, *, payment_provider_ref: str, capture_id: str | None
    ) -> Sequence[ProviderRefund]:
        """Every refund of one payment as the provider lists it (Stripe: of the
        PaymentIntent; PayPal: of the capture), each with `refund_id_hint` when it is ours."""
        ...

    def find_payment(self, *, payment_id: str) -> ProviderPayment | None:
        """The provider's payment created for our attempt `payment_id` (by the metadata we
        set), or None when there is none. Only when `capabilities.payment_lookup`."""
        ...

    def refusal_for(self, amount: Money) -> str | None:
        """Why this provider cannot take `amount` (an unsupported currency, more precision
        than it accepts), in words for the buyer; None when it can. Checked before any call."""
        ...

    def amount_step(self, currency: str) -> int:
        """The step, in ISO minor units, of the amounts this provider takes in `currency` (1 for
        most; 10 for Stripe's three-decimal currencies; 100 for PayPal's whole-unit HUF and
        TWD); 1 for a currency it does not take at all (`refusal_for` says so)."""
        ...

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None: ...
    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None: ...


ProviderRegistry = Mapping[ProviderName, PaymentProvider]


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    provider: ProviderName
    event_id: str
    type: str
    payload: Mapping[str, Any]


class WebhookRejected(Exception):
    """A webhook that must not be stored; `code` says why (answered with 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WebhookVerifier(Protocol):
    provider: ProviderName

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> VerifiedWebhook: ...
