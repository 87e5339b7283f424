"""Refund attempts: requested inside a transaction, sent to the provider outside one.

A refund is first a `pending` row with its own idempotency key (committed with whatever decided
it, e.g. the settlement that found an over-payment); `execute_pending_refunds` then asks the
provider, and repeats the same request after a lost answer, which the provider replays rather
than refunding twice. A provider's definite refusal marks the refund `failed` with the reason
and leaves it for a person; the audit log says who asked, why, and what the provider answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

import structlog

from eventpay.domain import Money, RefundStatus, refund_transition
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRefund,
    ProviderRefundStatus,
    ProviderRegistry,
    ProviderRejected,
    RefundRecord,
    RefundRequest,
    RefundUpdate,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.services import audit

log = structlog.get_logger(__name__)

_STATUS = {
    ProviderRefundStatus.PENDING: RefundStatus.PENDING,
    ProviderRefundStatus.SUCCEEDED: RefundStatus.SUCCEEDED,
    ProviderRefundStatus.FAILED: RefundStatus.FAILED,
    ProviderRefundStatus.CANCELED: RefundStatus.CANCELED,
}


def request_refund(
    uow: UnitOfWork,
    *,
    payment: PaymentRecord,
    amount: int,
    kind: str,
    reason: str,
    actor: Principal | str,
    now: datetime,
) -> RefundRecord:
    """Record a refund to be sent; part of the caller's transaction."""
    refund_id = str(uuid.uuid4())
    refund = RefundRecord(
        id=refund_id,
        order_id=payment.order_id,
        payment_id=payment.id,
        provider=payment.provider,
        amount=amount,
        currency=payment.currency,
        status=RefundStatus.PENDING,
        reason=reason,
        created_at=now,
        idempotency_key=f"eventpay-refund-{refund_id}",
        updated_at=now,
        kind=kind,
    )
    uow.refunds.add(refund)
    audit.record_refund(
        uow,
        refund,
        "refund.requested",
        actor=actor,
        now=now,
        details={"amount": amount, "currency": payment.currency, "kind": kind, "reason": reason},
    )
    return refund


def _send(
    providers: ProviderRegistry, refund: RefundRecord, payment: PaymentRecord
) -> ProviderRefund | ProviderRejected | None:
    provider = providers.get(refund.provider)
    if provider is None or payment.provider_ref is None:
        return ProviderRejected("provider_unavailable", "the payment's provider is not configured")
    try:
        return provider.refund_payment(
            RefundRequest(
                refund_id=refund.id,
                payment_provider_ref=payment.provider_ref,
                capture_id=payment.capture_id,
                amount=Money(refund.amount, refund.currency),
                idempotency_key=refund.idempotency_key,
                reason=refund.reason,
            )
        )
    except ProviderOutcomeUnknown as exc:
        log.info("refund.outcome_unknown", refund_id=refund.id, code=exc.code)
        return None
    except ProviderRejected as exc:
        return exc


def _record(
    uow_factory: UnitOfWorkFactory,
    refund_id: str,
    answer: ProviderRefund | ProviderRejected,
    now: datetime,
) -> None:
    with uow_factory() as uow:
        refund = uow.refunds.get(refund_id, for_update=True)
        if refund is None or refund.status is not RefundStatus.PENDING:
            return
        if isinstance(answer, ProviderRejected):
            refund.status = RefundStatus.FAILED
            refund.failure_reason = f"{answer.code}: {answer.message}"[:500]
        else:
            refund.status = _STATUS[answer.status]
            refund.provider_refund_id = answer.provider_refund_id
            refund.failure_reason = answer.failure_reason
        refund.updated_at = now
        uow.refunds.save(refund)
        audit.record_refund(
            uow,
            refund,
            f"refund.{refund.status.value}",
            actor=SYSTEM_ACTOR,
            now=now,
            details={
                "amount": refund.amount,
                "currency": refund.currency,
                "provider_refund_id": refund.provider_refund_id,
                "failure_reason": refund.failure_reason,
            },
        )
        uow.commit()


def execute_pending_refunds(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = 20,
    only: Collection[str] | None = None,
) -> int:
    """Send refunds the provider has not acknowledged yet; returns how many got an answer.

    `only` narrows it to the given refunds (a request sends its own at once; the janitor
    sends whatever is left).
    """
    with uow_factory() as uow:
        candidates = (
            uow.refunds.list_by_status(RefundStatus.PENDING, limit=limit)
            if only is None
            else [r for r in map(uow.refunds.get, only) if r is not None]
        )
        waiting = [
            (refund, uow.payments.get(refund.payment_id))
            for refund in candidates
            if refund.status is RefundStatus.PENDING and refund.provider_refund_id is None
        ]
    answered = 0
    for refund, payment in waiting:
        if payment is None:  # pragma: no cover - foreign key guarantees it
            continue
        try:
            answer = _send(providers, refund, payment)
            if answer is None:
                continue
            _record(uow_factory, refund.id, answer, clock())
        except Exception:
            log.exception("refund.execution_failed", refund_id=refund.id)
            continue
        answered += 1
    return answered


def apply_refund_update(
    uow: UnitOfWork, *, provider: ProviderName, update: RefundUpdate, actor: str, now: datetime
) -> bool:
    """Apply a provider's word about a refund; False when the refund is not one of ours."""
    refund = uow.refunds.by_provider_ref(provider, update.provider_refund_id, for_update=True)
    if refund is None and update.refund_id_hint is not None:
        refund = uow.refunds.get(update.refund_id_hint, for_update=True)
        if refund is not None and refund.provider is not provider:
            refund = None
    if refund is None:
        log.warning("refund.unknown_to_us", provider=provider.value, ref=update.provider_refund_id)
        return False
    if refund.provider_refund_id is None:
        refund.provider_refund_id = update.provider_refund_id
    step = refund_transition(refund.status, _STATUS[update.status])
    if not step.applied:
        uow.refunds.save(refund)
        return True
    refund.status = step.to_status
    refund.failure_reason = update.failure_reason
    refund.updated_at = now
    uow.refunds.save(refund)
    audit.record_refund(
        uow,
        refund,
        f"refund.{refund.status.value}",
        actor=actor,
        now=now,
        details={
            "from": step.from_status.value,
            "to": step.to_status.value,
            "provider_refund_id": refund.provider_refund_id,
            "failure_reason": refund.failure_reason,
        },
    )
    return True
