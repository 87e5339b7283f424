"""Plain records that cross the ports; repositories map rows to these and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from eventpay.domain import Money, PaymentStatus, RefundStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.reconciliation import Mismatch
from eventpay.ports.identity import ProviderName


@dataclass(slots=True)
class OrderLineRecord:
    id: str
    position: int
    kind: str
    description: str
    amount: int
    event_id: str | None = None
    class_id: str | None = None
    price_rule: str | None = None
    discount: int = 0  # this line's share of the order's discount (a promo code)


@dataclass(slots=True)
class RegistrationRecord:
    id: str
    order_id: str
    event_id: str
    competitor_id: str
    class_ids: list[str]
    status: RegistrationStatus
    created_at: datetime
    confirmed_at: datetime | None = None


@dataclass(slots=True)
class OrderRecord:
    id: str
    buyer_id: str
    currency: str
    subtotal: int
    discount: int
    fees: int
    tax: int
    total: int
    platform_fee: int
    organizer_net: int
    created_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None = None
    lines: list[OrderLineRecord] = field(default_factory=list)
    registrations: list[RegistrationRecord] = field(default_factory=list)
    # Per organizer of its events, [gross, platform fee] as priced (each event under its own
    # fee policy); what the ledger shares the order by. None for orders priced before it.
    organizer_shares: dict[str, list[int]] | None = None

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


@dataclass(slots=True)
class PaymentRecord:
    id: str
    order_id: str
    provider: ProviderName
    amount: int
    currency: str
    status: PaymentStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    stripe_payment_intent_id: str | None = None
    paypal_order_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    amount_received: int | None = None
    # The money movement itself (Stripe charge, PayPal capture): what refunds refer to.
    capture_id: str | None = None
    # Where the buyer's browser goes back to after a provider's hosted page (PayPal).
    return_url: str | None = None
    # The janitor's schedule for this attempt: when it is next due for a provider read (or a
    # capture, or a superseded check) and how many checks settled nothing since its last
    # status change. None only before the repository stores it (then: created_at).
    next_check_at: datetime | None = None
    checks: int = 0

    @property
    def provider_ref(self) -> str | None:
        if self.provider is ProviderName.STRIPE:
            return self.stripe_payment_intent_id
        return self.paypal_order_id

    def link_provider_ref(self, ref: str) -> None:
        """Record the provider's object id in the column of this attempt's provider."""
        if self.provider is ProviderName.STRIPE:
            self.stripe_payment_intent_id = ref
        else:
            self.paypal_order_id = ref


@dataclass(slots=True)
class RefundRecord:
    id: str
    order_id: str
    payment_id: str
    provider: ProviderName
    amount: int
    currency: str
    status: RefundStatus
    reason: str
    created_at: datetime
    idempotency_key: str = ""
    updated_at: datetime | None = None
    provider_refund_id: str | None = None
    failure_reason: str | None = None
    # Why the refund exists: a domain `RefundKind` value (overpayment, customer, operator,
    # external), stored as its string.
    kind: str = "customer"
    # The janitor's schedule: when this pending refund is next sent (no provider id yet) or
    # read (acknowledged, still pending), and how many checks settled nothing so far.
    next_check_at: datetime | None = None
    checks: int = 0
    # The request this refund is a part of (a withdrawal split over several payments): its
    # parts share it. None for refunds nobody asked for (over-payment, external).
    request_id: str | None = None


@dataclass(slots=True)
class AuditEntry:
    entity_type: str
    entity_id: str
    action: str
    actor_id: str
    details: dict[str, Any]
    created_at: datetime
    payment_id: str | None = None
    order_id: str | None = None
    ip_address: str | None = None


class WebhookStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    RETRYING = "retrying"
    DEAD = "dead"
    IGNORED = "ignored"


@dataclass(slots=True)
class WebhookEventRecord:
    id: str
    provider: ProviderName
    event_id: str
    type: str
    payload: str
    status: WebhookStatus
    received_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    processed_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class IdempotencyRecord:
    principal: str
    key: str
    fingerprint: str
    created_at: datetime
    locked_until: datetime | None
    response_status: int | None = None
    response_body: str | None = None


@dataclass(slots=True)
class ReconciliationRun:
    """One comparison of our movements with a provider's, and what differed, in order."""

    id: str
    provider: ProviderName
    since: datetime
    until: datetime
    finished_at: datetime
    ours: int
    theirs: int
    mismatches: list[Mismatch] = field(default_factory=list)
