"""One provider round-trip for a payment attempt: the create request, or a read.

A provider call never runs inside a database transaction: the attempt (with its idempotency
key) is committed first, then one of these calls is made, then settlement applies the answer.
The create request is rebuilt identically every time, so a repeat under the same key matches
the first; a repeat is made blind only while the provider still remembers the key
(`domain.may_resend_blind`). Past that window a provider that can look payments up by our
metadata (`payment_lookup`, Stripe) is asked first, and what it finds is adopted; a provider
that cannot (PayPal) gets a new create, which moves no money until the buyer approves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from eventpay.domain import Money, may_resend_blind
from eventpay.ports import (
    CreatePayment,
    OrderRecord,
    PaymentLine,
    PaymentProvider,
    PaymentRecord,
    ProviderPayment,
)
from eventpay.services.settlement import connect

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    """Where a provider's hosted page sends the buyer back: this service's own routes."""

    base: str

    def for_payment(self, payment_id: str) -> tuple[str, str]:
        root = f"{self.base.rstrip('/')}/v1/payments/{payment_id}/paypal"
        return f"{root}/return", f"{root}/cancel"


def create_request(
    order: OrderRecord, payment: PaymentRecord, *, urls: ReturnUrls | None
) -> CreatePayment:
    """The create request, rebuilt identically every time (a retry must match the first)."""
    amount = Money(payment.amount, payment.currency)
    lines = [PaymentLine(ln.description, order.money(ln.amount)) for ln in order.lines]
    if sum(ln.amount for ln in order.lines) != payment.amount:
        lines = [PaymentLine(f"Balance of order {order.id}", amount)]
    return_url, cancel_url = urls.for_payment(payment.id) if urls else (None, None)
    fee = payment.metadata.get(connect.APPLICATION_FEE)
    return CreatePayment(
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=amount,
        idempotency_key=payment.idempotency_key,
        description=f"Car Audio Events order {payment.order_id}",
        metadata=payment.metadata,
        return_url=return_url,
        cancel_url=cancel_url,
        lines=lines,
        # Stripe Connect, as decided when the attempt was created (`settlement.connect`).
        transfer_destination=payment.metadata.get(connect.DESTINATION),
        application_fee=None if fee is None else int(fee),
        transfer_group=payment.metadata.get(connect.TRANSFER_GROUP),
    )


def call_provider(
    gateway: PaymentProvider,
    order: OrderRecord,
    payment: PaymentRecord,
    *,
    urls: ReturnUrls | None,
    now: datetime,
) -> ProviderPayment:
    """Read the attempt's provider object, or create it (at most once at the provider).

    Raises the provider's errors (`ProviderOutcomeUnknown`, `ProviderRejected`).
    """
    if payment.provider_ref is not None:
        return gateway.retrieve_payment(payment.provider_ref)
    capabilities = gateway.capabilities
    if capabilities.payment_lookup and not may_resend_blind(
        first_sent=payment.created_at, now=now, window=capabilities.idempotency_window
    ):
        found = gateway.find_payment(payment_id=payment.id)
        if found is not None:
            log.warning("payment.adopted_after_key_window", payment_id=payment.id)
            return found
    return gateway.create_payment(create_request(order, payment, urls=urls))
