"""Sending refunds to the provider and reading the pending ones, outside any transaction.

A refund row is committed first (`settlement.request_refund`), then sent here with its own
idempotency key; the answer is applied by settlement in a second transaction. What is due is
selected in the database (`next_check_at`), so no number of stuck refunds can hide another:

- not sent yet (no provider id): send it. A lost answer is recovered by sending again with the
  same key, which the provider replays instead of refunding twice, but only while the provider
  still remembers the key (`domain.may_resend_blind`). Past that window the provider's refunds
  of the payment are read first and ours is adopted if it exists; only when none exists is the
  request sent again.
- acknowledged but still pending: read it, in case its webhook was lost or dead-lettered.

A definite refusal fails the refund (a person sees why); an unknown outcome or a configuration
problem on our side (bad credentials, no adapter) leaves it pending and due again later,
backing off, with the configuration problem in the audit log.
"""

from __future__ import annotations

from collections.abc import Collection

import structlog

from eventpay.domain import Money, RefundStatus, may_resend_blind
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    PaymentProvider,
    PaymentRecord,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderRefund,
    ProviderRegistry,
    ProviderRejected,
    RefundRecord,
    RefundRequest,
    UnitOfWorkFactory,
)
from eventpay.services.settlement import connect, defer_refund, record_refund_answer

log = structlog.get_logger(__name__)

BATCH = 50
"""How many due refunds one janitor run handles; the rest stay due for the next run."""


def execute_pending_refunds(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
    only: Collection[str] | None = None,
) -> int:
    """Send or read the due pending refunds; returns how many got a definite answer.

    `only` narrows it to the given refunds, due or not (a request sends its own at once; the
    janitor handles whatever is due).
    """
    with uow_factory() as uow:
        if only is None:
            candidates = list(uow.refunds.list_due(now=clock(), limit=limit))
        else:
            candidates = [r for r in map(uow.refunds.get, only) if r is not None]
        work = [
            (refund, uow.payments.get(refund.payment_id))
            for refund in candidates
            if refund.status is RefundStatus.PENDING
        ]
    answered = 0
    for refund, payment in work:
        if payment is None:  # pragma: no cover - foreign key guarantees it
            continue
        try:
            answered += _advance(uow_factory, providers, clock, refund, payment)
        except Exception:
            log.exception("refund.execution_failed", refund_id=refund.id)
            defer_refund(uow_factory, refund.id, now=clock(), actor=SYSTEM_ACTOR)
    return answered


def _advance(
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    refund: RefundRecord,
    payment: PaymentRecord,
) -> int:
    gateway = providers.get(refund.provider)
    if gateway is None or payment.provider_ref is None:
        why = f"no {refund.provider.value} adapter is configured: the refund waits for it"
        log.error("refund.provider_missing", refund_id=refund.id, provider=refund.provider.value)
        defer_refund(uow_factory, refund.id, now=clock(), why=why, actor=SYSTEM_ACTOR)
        return 0
    current = _still_pending(uow_factory, refund.id)
    if current is None:
        return 0  # settled meanwhile (a webhook, another worker): nothing to send or read
    refund = current
    source = "provider_read" if refund.provider_refund_id is not None else "adoption_read"
    answer: ProviderRefund | ProviderRejected
    try:
        if refund.provider_refund_id is not None:
            answer = gateway.retrieve_refund(refund.provider_refund_id)
        else:
            adopted = _adopt_after_key_window(gateway, refund, payment, clock)
            if adopted is not None:
                source, answer = "adopted", adopted
            else:
                source = "provider_call"
                answer = gateway.refund_payment(_request(refund, payment))
    except ProviderMisconfigured as exc:
        log.error("refund.provider_misconfigured", refund_id=refund.id, code=exc.code)
        why = f"{refund.provider.value} refused our credentials or permissions: {exc.message}"
        defer_refund(uow_factory, refund.id, now=clock(), why=why, actor=SYSTEM_ACTOR)
        return 0
    except ProviderOutcomeUnknown as exc:
        log.info("refund.outcome_unknown", refund_id=refund.id, code=exc.code)
        defer_refund(uow_factory, refund.id, now=clock(), actor=SYSTEM_ACTOR)
        return 0
    except ProviderRejected as exc:
        if source != "provider_call":
            # A read refused (the provider no longer finds the refund, or the payment) says
            # nothing about the money: only a refused send is a refused refund.
            why = f"reading the provider's refunds was refused: {exc.code}"
            defer_refund(uow_factory, refund.id, now=clock(), why=why, actor=SYSTEM_ACTOR)
            return 0
        answer = exc
    record_refund_answer(
        uow_factory, refund.id, answer, actor=SYSTEM_ACTOR, now=clock(), source=source
    )
    return 1


def _still_pending(uow_factory: UnitOfWorkFactory, refund_id: str) -> RefundRecord | None:
    """The refund as it is now, if still pending: the batch was read before this item's turn."""
    with uow_factory() as uow:
        refund = uow.refunds.get(refund_id)
    return refund if refund is not None and refund.status is RefundStatus.PENDING else None


def _request(refund: RefundRecord, payment: PaymentRecord) -> RefundRequest:
    assert payment.provider_ref is not None  # checked by the caller
    return RefundRequest(
        refund_id=refund.id,
        payment_provider_ref=payment.provider_ref,
        capture_id=payment.capture_id,
        amount=Money(refund.amount, refund.currency),
        idempotency_key=refund.idempotency_key,
        reason=refund.reason,
        # A destination charge: the organizer's transfer and the platform's fee come back too.
        reverse_transfer=connect.DESTINATION in payment.metadata,
        refund_application_fee=connect.DESTINATION in payment.metadata,
    )


def _adopt_after_key_window(
    gateway: PaymentProvider, refund: RefundRecord, payment: PaymentRecord, clock: Clock
) -> ProviderRefund | None:
    """Past the provider's key window, the refund the first request may have made, if any.

    Raises what the read raises: an unknown read must not be followed by a blind send.
    """
    window = gateway.capabilities.idempotency_window
    if may_resend_blind(first_sent=refund.created_at, now=clock(), window=window):
        return None
    assert payment.provider_ref is not None  # checked by the caller
    for found in gateway.find_refunds(
        payment_provider_ref=payment.provider_ref, capture_id=payment.capture_id
    ):
        if found.refund_id_hint == refund.id:
            log.warning("refund.adopted_after_key_window", refund_id=refund.id)
            return found
    return None
