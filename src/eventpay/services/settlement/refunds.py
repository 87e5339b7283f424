"""Refund attempts: recorded, answered, moved by provider news, and their consequences.

A refund is first a `pending` row with its own idempotency key (committed with whatever decided
it: a withdrawal, an operator, the settlement that found an over-payment), due at once for the
janitor. Every later change of its status goes through the domain's `refund_transition`,
whoever brought the news: the provider's answer to our request, a read of a pending refund,
a webhook. A refund someone made at the provider itself (a dashboard) is recorded from its
first event as kind `external`, so the order's derived status and the refund quote count it.

Consequences in the same transaction: places are released only once money went back
(`registrations.release_places`), and a refused withdrawal refund is said out loud (an audit
row on the order; the order shows the refund `failed` with the provider's reason).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from eventpay.domain import (
    Money,
    RefundKind,
    RefundStatus,
    next_check_at,
    refund_transition,
)
from eventpay.ports import (
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderRefund,
    ProviderRefundStatus,
    ProviderRejected,
    RefundRecord,
    RefundUpdate,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.services import audit
from eventpay.services.settlement import ledger
from eventpay.services.settlement.registrations import release_places

log = structlog.get_logger(__name__)

_PROVIDER_LABEL = {ProviderName.STRIPE: "Stripe", ProviderName.PAYPAL: "PayPal"}

_STATUS = {
    ProviderRefundStatus.PENDING: RefundStatus.PENDING,
    ProviderRefundStatus.SUCCEEDED: RefundStatus.SUCCEEDED,
    ProviderRefundStatus.FAILED: RefundStatus.FAILED,
    ProviderRefundStatus.CANCELED: RefundStatus.CANCELED,
}


class UnrecordableRefund(Exception):
    """The provider refunded one of our payments in a way we cannot count (no amount, another
    currency); the event must reach a person rather than be ignored."""


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
    request_id: str | None = None,
) -> RefundRecord:
    """Record a refund to be sent; part of the caller's transaction.

    `idempotency_key` (unique among refunds) defaults to one derived from the new refund's id.
    `request_id` names the request this refund is a part of (its parts share it).
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
        next_check_at=now,
        request_id=request_id,
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


def _move(
    uow: UnitOfWork,
    refund: RefundRecord,
    target: RefundStatus,
    *,
    failure_reason: str | None,
    actor: Principal | str,
    now: datetime,
    details: dict[str, object],
) -> bool:
    """Move `refund` (locked) to `target` through the state machine; True when it moved.

    The janitor's schedule is the caller's: only it knows whether this was a read that
    settled nothing (back off) or the provider's first word (read again soon).
    """
    step = refund_transition(refund.status, target)
    if step.applied:
        refund.status = step.to_status
        refund.failure_reason = failure_reason
    refund.updated_at = now
    uow.refunds.save(refund)
    if step.applied and step.to_status is RefundStatus.SUCCEEDED:
        ledger.refund_moved(uow, refund, returned=True, now=now)
    elif step.applied and step.from_status is RefundStatus.SUCCEEDED:
        ledger.refund_moved(uow, refund, returned=False, now=now)  # the money came back
    if step.applied:
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
                **details,
            },
        )
        _consequences(uow, refund, actor=actor, now=now)
    return step.applied


def _consequences(
    uow: UnitOfWork, refund: RefundRecord, *, actor: Principal | str, now: datetime
) -> None:
    if refund.status is RefundStatus.FAILED and RefundKind(refund.kind) is RefundKind.CUSTOMER:
        # The competitor keeps the place they paid for; buyer and organizer are told.
        audit.record(
            uow,
            entity_type="order",
            entity_id=refund.order_id,
            order_id=refund.order_id,
            payment_id=refund.payment_id,
            action="order.withdrawal_refund_failed",
            actor=actor,
            now=now,
            details={
                "refund_id": refund.id,
                "amount": refund.amount,
                "currency": refund.currency,
                "failure_reason": refund.failure_reason,
                "registrations": "kept: the withdrawal takes effect only once a refund succeeds",
            },
        )
        log.warning("refund.withdrawal_refused", refund_id=refund.id, order_id=refund.order_id)
    release_places(uow, refund.order_id, actor=actor, now=now)


def record_refund_answer(
    uow_factory: UnitOfWorkFactory,
    refund_id: str,
    answer: ProviderRefund | ProviderRejected,
    *,
    actor: Principal | str,
    now: datetime,
    source: str = "provider_call",
) -> RefundRecord | None:
    """Apply the provider's answer to our request (or a read of our refund), in one
    transaction. `source` says how we learned it (`provider_call`, `provider_read`,
    `adopted` for a refund found at the provider after its key expired)."""
    with uow_factory() as uow:
        refund = uow.refunds.get(refund_id, for_update=True)
        if refund is None or refund.status is not RefundStatus.PENDING:
            return refund
        if isinstance(answer, ProviderRejected):
            _move(
                uow,
                refund,
                RefundStatus.FAILED,
                failure_reason=f"{answer.code}: {answer.message}"[:500],
                actor=actor,
                now=now,
                details={"source": source, "provider_code": answer.code},
            )
        else:
            first_word = refund.provider_refund_id is None
            refund.provider_refund_id = answer.provider_refund_id
            _reschedule_pending(refund, now=now, first_word=first_word)
            moved = _move(
                uow,
                refund,
                _STATUS[answer.status],
                failure_reason=answer.failure_reason,
                actor=actor,
                now=now,
                details={"source": source, "amount": refund.amount, "currency": refund.currency},
            )
            if first_word and not moved:
                _acknowledged(uow, refund, actor=actor, now=now, source=source)
            if answer.fee_returned is not None:
                ledger.refund_fee_returned(uow, refund, answer.fee_returned, now=now)
        uow.commit()
        return refund


def _reschedule_pending(refund: RefundRecord, *, now: datetime, first_word: bool) -> None:
    """When to look at a refund that may stay pending: soon after the provider's first word,
    then backing off with every read that finds it still pending."""
    refund.checks = 0 if first_word else refund.checks + 1
    refund.next_check_at = next_check_at(now=now, checks_done=max(refund.checks, 1))


def _acknowledged(
    uow: UnitOfWork, refund: RefundRecord, *, actor: Principal | str, now: datetime, source: str
) -> None:
    """The provider took the refund and left it pending: say so once, with its id."""
    audit.record_refund(
        uow,
        refund,
        "refund.pending",
        actor=actor,
        now=now,
        details={
            "source": source,
            "amount": refund.amount,
            "currency": refund.currency,
            "provider_refund_id": refund.provider_refund_id,
        },
    )


def defer_refund(
    uow_factory: UnitOfWorkFactory,
    refund_id: str,
    *,
    now: datetime,
    why: str | None = None,
    actor: Principal | str,
) -> None:
    """A send or read settled nothing: try again later, backing off. `why` (a configuration
    problem on our side) is written to the audit log, since a person must fix it."""
    with uow_factory() as uow:
        refund = uow.refunds.get(refund_id, for_update=True)
        if refund is None or refund.status is not RefundStatus.PENDING:
            return
        refund.checks += 1
        refund.next_check_at = next_check_at(now=now, checks_done=refund.checks)
        uow.refunds.save(refund)
        if why is not None:
            audit.record_refund(
                uow,
                refund,
                "refund.deferred",
                actor=actor,
                now=now,
                details={"reason": why, "next_check_at": refund.next_check_at.isoformat()},
            )
        uow.commit()


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


def _record_external(
    uow: UnitOfWork,
    *,
    payment: PaymentRecord,
    update: RefundUpdate,
    actor: str,
    now: datetime,
) -> None:
    """Record a refund someone made at the provider itself, as the provider reports it."""
    amount: Money | None = update.amount
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
        next_check_at=next_check_at(now=now, checks_done=1),
    )
    uow.refunds.add(refund)
    if refund.status is RefundStatus.SUCCEEDED:
        ledger.refund_moved(uow, refund, returned=True, now=now)
        if update.fee_returned is not None:
            ledger.refund_fee_returned(uow, refund, update.fee_returned, now=now)
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
            release_places(uow, payment.order_id, actor=actor, now=now)
            return True
    first_word = refund.provider_refund_id is None
    if first_word:
        refund.provider_refund_id = update.provider_refund_id
        _reschedule_pending(refund, now=now, first_word=True)
    moved = _move(
        uow,
        refund,
        _STATUS[update.status],
        failure_reason=update.failure_reason,
        actor=actor,
        now=now,
        details={"source": "webhook"},
    )
    if first_word and not moved:
        _acknowledged(uow, refund, actor=actor, now=now, source="webhook")
    if update.fee_returned is not None:
        ledger.refund_fee_returned(uow, refund, update.fee_returned, now=now)
    return True
