"""Closing payment attempts the buyer could still pay although the order needs no more money.

A card attempt (Stripe PaymentIntent) is confirmed by the buyer's browser, not by us: once the
order is paid through another attempt (PayPal in one tab, a card in another), an open intent
left in the other tab could still be paid, and the money would then have to be refunded. The
janitor cancels such intents at the provider (with an idempotency key derived from the
attempt) as soon as it sees them, so the other tab's confirmation fails instead of charging
twice. Which orders no longer need money is the domain's rule (`collects_approved_payment`):
paid, refunded or cancelled; an expired order may still be paid by an attempt begun in time.

Only providers whose buyers confirm client-side (`client_confirmation`) are swept; a PayPal
approval is never captured for such an order in the first place (`captures`). A cancel the
provider refuses (the intent succeeded a moment ago) is followed by a read, and a success
found that way is settled as the over-payment it is.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from eventpay.domain import PaymentStatus, collects_approved_payment
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    PaymentProvider,
    PaymentRecord,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.settlement import record_provider_answer, reschedule_payment
from eventpay.services.views import order_status

log = structlog.get_logger(__name__)

# Open at the provider: waiting for the buyer, or declined and retryable on the same intent.
_OPEN = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED)
SWEEP_FOR = timedelta(days=7)
"""How long after creation an open attempt is watched (abandoned ones are not read forever)."""


def cancel_key(payment_id: str) -> str:
    return f"eventpay-cancel-{payment_id}"


def close_superseded(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock, limit: int = 50
) -> int:
    """Janitor: cancel open attempts of orders that need no more money; how many were closed.

    Only due attempts beside a succeeded one are read (the cheap, indexed question: never
    checked since their last status change, or due again); the domain's rule then decides on
    the order's derived status. An attempt left open (its order still needs money) is looked
    at again later, backing off, so it never keeps others out of the batch.
    """
    closed = 0
    for provider_name, gateway in providers.items():
        if not gateway.capabilities.client_confirmation:
            continue
        now = clock()
        with uow_factory() as uow:
            candidates = uow.payments.list_due(
                now=now,
                statuses=_OPEN,
                provider=provider_name,
                linked=True,
                created_after=now - SWEEP_FOR,
                beside_success=True,
                unchecked_too=True,
                limit=limit,
            )
        for payment in candidates:
            try:
                done = _close_if_superseded(uow_factory, gateway, payment, clock)
            except Exception:
                log.exception("payment.close_superseded_failed", payment_id=payment.id)
                done = 0
            closed += done
            if not done:
                reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
    return closed


def _close_if_superseded(
    uow_factory: UnitOfWorkFactory, gateway: PaymentProvider, payment: PaymentRecord, clock: Clock
) -> int:
    if payment.provider_ref is None:
        return 0
    if collects_approved_payment(order_status(uow_factory, payment.order_id, now=clock())):
        return 0  # e.g. the other success was short: the order still needs money
    answer: ProviderPayment
    try:
        answer = gateway.cancel_payment(
            payment.provider_ref, idempotency_key=cancel_key(payment.id)
        )
    except ProviderOutcomeUnknown as exc:
        log.info("payment.cancel_unknown", payment_id=payment.id, code=exc.code)
        return 0
    except ProviderRejected as exc:
        # Most likely it is no longer cancelable because it just succeeded: ask what it is.
        log.info("payment.cancel_refused", payment_id=payment.id, code=exc.code)
        answer = gateway.retrieve_payment(payment.provider_ref)
    record_provider_answer(
        uow_factory=uow_factory,
        payment_id=payment.id,
        answer=answer,
        actor=SYSTEM_ACTOR,
        now=clock(),
        source={"source": "superseded", "reason": "the order needs no more money"},
    )
    log.info("payment.superseded", payment_id=payment.id, status=answer.status.value)
    return 1 if answer.status is PaymentStatus.CANCELED else 0
