"""Refund attempts: requested inside a transaction, sent to the provider outside one.

A refund is first a `pending` row with its own idempotency key (committed with whatever decided
it, e.g. the settlement that found an over-payment); `execute_pending_refunds` then asks the
provider, and repeats the same request after a lost answer, which the provider replays rather
than refunding twice. A provider's definite refusal marks the refund `failed` with the reason
and leaves it for a person; the audit log says who asked, why, and what the provider answered.

Provider news about refunds (`apply_refund_update`) moves our refund through the domain's
refund state machine. A refund of one of our payments that someone made at the provider itself
(a dashboard) is recorded from its first event as kind `external`, so the order's derived
status and the refund quote count the money that went back.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

import structlog

from eventpay.domain import Money, RefundKind, RefundStatus, refund_transition
from eventpay.domain.orders import RegistrationStatus, registration_status_for
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
from eventpay.services.orders import cancel_registrations, view_of

log = structlog.get_logger(__name__)

# The kind of a refund someone made at the provider, outside this service.

_PROVIDER_LABEL = {ProviderName.STRIPE: "Stripe", ProviderName.PAYPAL: "PayPal"}

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
    idempotency_key: str | None = None,
) -> RefundRecord:
    """Record a refund to be sent; part of the caller's transaction.

    `idempotency_key` (unique among refunds) defaults to one derived from the new refund's id.
    """
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
        idempotency_key=idempotency_key or f"eventpay-refund-{refund_id}",
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
        release_if_refunded(uow, refund.order_id, actor=SYSTEM_ACTOR, now=now)
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


class UnrecordableRefund(Exception):
    """The provider refunded one of our payments in a way we cannot count (no amount, another
    currency); the event must reach a person rather than be ignored."""


def _ours(uow: UnitOfWork, provider: ProviderName, update: RefundUpdate) -> RefundRecord | None:
    refund = uow.refunds.by_provider_ref(provider, update.provider_refund_id, for_update=True)
    if refund is None and update.refund_id_hint is not None:
        refund = uow.refunds.get(update.refund_id_hint, for_update=True)
        if refund is not None and refund.provider is not provider:
            refund = None
    return refund


def _refunded_payment(
    uow: UnitOfWork, provider: ProviderName, update: RefundUpdate
) -> PaymentRecord | None:
    payment = None
    if update.payment_provider_ref is not None:
        payment = uow.payments.by_provider_ref(provider, update.payment_provider_ref)
    if payment is None and update.capture_id is not None:
        payment = uow.payments.by_capture_id(provider, update.capture_id)
    return payment


def release_if_refunded(
    uow: UnitOfWork, order_id: str, *, actor: Principal | str, now: datetime
) -> None:
    """Once all the money is back, the order holds no places: cancel its registrations.

    A partially refunded order keeps them (a late-withdrawal fee, a goodwill refund).
    """
    order = uow.orders.get(order_id, for_update=True)
    if order is None:  # pragma: no cover - foreign key guarantees it
        return
    status = view_of(uow, order, now=now).status
    if registration_status_for(status) is RegistrationStatus.CANCELLED:
        cancel_registrations(uow, order, actor=actor, now=now, reason=f"the order is {status}")


def _record_external(
    uow: UnitOfWork,
    *,
    payment: PaymentRecord,
    update: RefundUpdate,
    actor: str,
    now: datetime,
) -> None:
    """Record a refund someone made at the provider itself, as the provider reports it."""
    amount = update.amount
    if amount is None or amount.currency != payment.currency or not amount.is_positive():
        raise UnrecordableRefund(
            f"{payment.provider.value} refund {update.provider_refund_id} of payment "
            f"{payment.id} ({payment.currency}) carries no usable amount: {amount}"
        )
    refund_id = str(uuid.uuid4())
    refund = RefundRecord(
        id=refund_id,
        order_id=payment.order_id,
        payment_id=payment.id,
        provider=payment.provider,
        amount=amount.amount,
        currency=payment.currency,
        status=_STATUS[update.status],
        reason=f"refunded at {_PROVIDER_LABEL[payment.provider]} outside eventpay",
        created_at=now,
        # Never sent by us; the key only has to be unique, and says where the refund came from.
        idempotency_key=f"external-{payment.provider.value}-{update.provider_refund_id}",
        updated_at=now,
        provider_refund_id=update.provider_refund_id,
        failure_reason=update.failure_reason,
        kind=RefundKind.EXTERNAL,
    )
    uow.refunds.add(refund)
    audit.record_refund(
        uow,
        refund,
        "refund.recorded_external",
        actor=actor,
        now=now,
        details={
            "amount": refund.amount,
            "currency": refund.currency,
            "provider_refund_id": refund.provider_refund_id,
            "status": refund.status.value,
        },
    )


def apply_refund_update(
    uow: UnitOfWork, *, provider: ProviderName, update: RefundUpdate, actor: str, now: datetime
) -> bool:
    """Apply a provider's word about a refund; False when neither it nor its payment is ours.

    A refund of one of our payments that we did not make (an organizer refunding in the
    provider's dashboard) is recorded the first time any event about it arrives, as kind
    `external`; later events find it by the provider's refund id like any other refund.
    """
    refund = _ours(uow, provider, update)
    if refund is None:
        payment = _refunded_payment(uow, provider, update)
        if payment is None:
            log.warning(
                "refund.unknown_to_us", provider=provider.value, ref=update.provider_refund_id
            )
            return False
        # The payment's and then the order's lock, in the order settlement and refund requests
        # take them (no deadlock): another event about this refund (refund.created and
        # refund.updated on two workers) or a withdrawal of this order waits here, and then
        # sees the row this transaction writes.
        uow.payments.get(payment.id, for_update=True)
        uow.orders.get(payment.order_id, for_update=True)
        refund = uow.refunds.by_provider_ref(provider, update.provider_refund_id, for_update=True)
        if refund is None:
            _record_external(uow, payment=payment, update=update, actor=actor, now=now)
            release_if_refunded(uow, payment.order_id, actor=actor, now=now)
            return True
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
    release_if_refunded(uow, refund.order_id, actor=actor, now=now)
    return True
