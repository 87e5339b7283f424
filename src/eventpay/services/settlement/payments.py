"""Applying a provider-confirmed status to a payment attempt, and its consequences.

The one place where a payment attempt changes state after creation, whoever learned of it (a
webhook, a provider read after a create call, the janitor). The domain's transition table
decides whether the change applies: a duplicate or older status changes nothing. When a
success makes the order paid, its registrations are confirmed in the same transaction; a
success on an order that was already paid is recorded as an over-payment and refunded
(`domain.size_overpayment`), never hidden. Each status change also sets when the janitor
next looks at the attempt (`domain.first_check_at`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from eventpay.domain import (
    Money,
    OrderStatus,
    PaymentStatus,
    RefundKind,
    Transition,
    first_check_at,
    judge_reported_amount,
    next_check_at,
    resolve_observed,
    size_overpayment,
    transition,
)
from eventpay.ports import (
    OrderRecord,
    PaymentRecord,
    PaymentUpdate,
    Principal,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRejected,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.ports.places import PlaceRecord
from eventpay.services import audit
from eventpay.services.settlement import ledger, places
from eventpay.services.settlement.refunds import request_refund
from eventpay.services.settlement.registrations import (
    cancel_registrations,
    confirm_registrations,
)
from eventpay.services.views import counted_amount, view_of

log = structlog.get_logger(__name__)


def apply_status(
    uow: UnitOfWork,
    payment: PaymentRecord,
    target: PaymentStatus,
    *,
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, Any],
    failure_code: str | None = None,
    failure_message: str | None = None,
    amount_received: int | None = None,
    observed: bool = False,
) -> Transition:
    """Move `payment` (already locked by the caller) toward `target`; returns what happened.

    `observed` marks a fresh provider read (which may end an `unknown`), as opposed to an
    event report (which only ever moves forward).
    """
    step = (
        resolve_observed(payment.status, target) if observed else transition(payment.status, target)
    )
    if not step.applied:
        log.info(
            "payment.transition_skipped",
            payment_id=payment.id,
            current=payment.status.value,
            target=target.value,
            outcome=str(step.outcome),
        )
        return step
    previous = payment.status
    payment.status = step.to_status
    payment.updated_at = now
    payment.checks = 0
    payment.next_check_at = first_check_at(step.to_status, now=now)
    if target is PaymentStatus.FAILED:
        payment.failure_code = failure_code
        payment.failure_message = failure_message
    elif target is PaymentStatus.SUCCEEDED:
        # A decline before the retry that succeeded is history (kept in the audit log).
        payment.failure_code = None
        payment.failure_message = None
    if amount_received is not None:
        payment.amount_received = amount_received
    uow.payments.save(payment)
    audit.record_payment(
        uow,
        payment,
        (
            "payment.resolved"
            if previous is PaymentStatus.UNKNOWN and observed
            else f"payment.{target.value}"
        ),
        actor=actor,
        now=now,
        details={
            "from": previous.value,
            "to": target.value,
            "amount": payment.amount,
            "currency": payment.currency,
            "failure_code": failure_code,
            **dict(source),
        },
    )
    if target is PaymentStatus.SUCCEEDED:
        _settle_order(uow, payment, actor=actor, now=now)
    return step


def _settle_order(
    uow: UnitOfWork, payment: PaymentRecord, *, actor: Principal | str, now: datetime
) -> None:
    order = uow.orders.get(payment.order_id, for_update=True)
    if order is None:  # pragma: no cover - foreign key guarantees it
        raise LookupError(f"order {payment.order_id} of payment {payment.id} is missing")
    view = view_of(uow, order, now=now)
    ledger.payment_succeeded(uow, order, payment, net_after=view.summary.net_paid.amount, now=now)
    over = size_overpayment(received=order.money(counted_amount(payment)), summary=view.summary)
    becomes_paid = not over.order_was_paid and view.status is OrderStatus.PAID
    if becomes_paid:
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            payment_id=payment.id,
            action="order.paid",
            actor=actor,
            now=now,
            details={"total": order.total, "currency": order.currency, "payment_id": payment.id},
        )
        lost = places.confirm(uow, order, actor=actor, now=now)
        if lost:
            # The whole payment goes back, its excess over the total included.
            _refund_places_gone(uow, order, payment, lost, actor=actor, now=now)
            return
    if over.excess.is_positive():
        _refund_excess(
            uow, payment, over.excess, was_paid=over.order_was_paid, actor=actor, now=now
        )
    if becomes_paid:
        confirm_registrations(uow, view, payment_id=payment.id, actor=actor, now=now)


def _refund_places_gone(
    uow: UnitOfWork,
    order: OrderRecord,
    payment: PaymentRecord,
    lost: Sequence[PlaceRecord],
    *,
    actor: Principal | str,
    now: datetime,
) -> None:
    """The payment landed after the reservation expired and its places were sold meanwhile:
    the order cannot be honoured, so the payment goes back whole, and the buyer reads why."""
    reason = (
        "automatic: the payment arrived after this order's reservation expired, and its places "
        "were taken by other buyers meanwhile (sold out)"
    )
    audit.record(
        uow,
        entity_type="order",
        entity_id=order.id,
        order_id=order.id,
        payment_id=payment.id,
        action="order.places_gone",
        actor=actor,
        now=now,
        details={
            "reason": reason,
            "expired_at": None if order.expires_at is None else order.expires_at.isoformat(),
            "lost": [{"stock_id": p.stock_id, "holder": p.holder} for p in lost],
        },
    )
    log.warning("order.places_gone", order_id=order.id, payment_id=payment.id)
    request_refund(
        uow,
        payment=payment,
        amount=counted_amount(payment),
        kind=RefundKind.SOLD_OUT,
        reason=reason,
        actor=actor,
        now=now,
    )
    cancel_registrations(uow, order, actor=actor, now=now, reason="sold out after expiry")


def _refund_excess(
    uow: UnitOfWork,
    payment: PaymentRecord,
    excess: Money,
    *,
    was_paid: bool,
    actor: Principal | str,
    now: datetime,
) -> None:
    """Record an over-payment and send back what this payment brought beyond the total."""
    reason = (
        "the order was already paid when a further payment attempt succeeded"
        if was_paid
        else "the payments received exceed the order total"
    )
    audit.record(
        uow,
        entity_type="order",
        entity_id=payment.order_id,
        order_id=payment.order_id,
        payment_id=payment.id,
        action="order.overpaid",
        actor=actor,
        now=now,
        details={"overpaid": excess.amount, "currency": payment.currency, "reason": reason},
    )
    log.warning("order.overpaid", order_id=payment.order_id, payment_id=payment.id)
    request_refund(
        uow,
        payment=payment,
        amount=excess.amount,
        kind=RefundKind.OVERPAYMENT,
        reason=f"automatic: {reason} (order {payment.order_id}, payment {payment.id})",
        actor=actor,
        now=now,
    )


def _judged_received(
    uow: UnitOfWork,
    payment: PaymentRecord,
    *,
    reported: Money | None,
    received: int | None,
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, Any],
) -> int | None:
    """The amount to count as received, auditing a provider amount that differs from ours."""
    judged = judge_reported_amount(
        expected=Money(payment.amount, payment.currency), reported=reported, received=received
    )
    if judged.mismatch and reported is not None:
        audit.record_payment(
            uow,
            payment,
            "payment.amount_mismatch",
            actor=actor,
            now=now,
            details={
                **source,
                "expected": payment.amount,
                "expected_currency": payment.currency,
                "provider_amount": reported.amount,
                "provider_currency": reported.currency,
            },
        )
    return judged.received


def _link(
    uow: UnitOfWork,
    payment: PaymentRecord,
    *,
    provider_ref: str,
    capture_id: str | None,
    actor: Principal | str,
    now: datetime,
) -> None:
    if payment.provider_ref is None:
        payment.link_provider_ref(provider_ref)
        payment.updated_at = now
        uow.payments.save(payment)
        audit.record_payment(
            uow,
            payment,
            "payment.provider_linked",
            actor=actor,
            now=now,
            details={"provider_ref": provider_ref},
        )
    if capture_id and payment.capture_id != capture_id:
        payment.capture_id = capture_id
        uow.payments.save(payment)


def apply_payment_update(
    uow: UnitOfWork,
    payment: PaymentRecord,
    update: PaymentUpdate,
    *,
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, Any],
    observed: bool = False,
) -> Transition:
    """Apply a provider's word about `payment` (locked by the caller): an event, or with
    `observed` a fresh read. Links the provider's ids, judges its amount, moves the status."""
    _link(
        uow,
        payment,
        provider_ref=update.provider_ref,
        capture_id=update.capture_id,
        actor=actor,
        now=now,
    )
    received = _judged_received(
        uow,
        payment,
        reported=update.amount,
        received=update.amount_received,
        actor=actor,
        now=now,
        source=source,
    )
    step = apply_status(
        uow,
        payment,
        update.status,
        actor=actor,
        now=now,
        source=source,
        failure_code=update.failure_code,
        failure_message=update.failure_message,
        amount_received=received,
        observed=observed,
    )
    if (
        payment.status is PaymentStatus.SUCCEEDED
        and update.fee is not None
        and ledger.provider_fee_known(uow, payment, update.fee, now=now)
    ):
        audit.record_payment(
            uow,
            payment,
            "payment.provider_fee",
            actor=actor,
            now=now,
            details={**source, "fee": update.fee.amount, "currency": update.fee.currency},
        )
    return step


def record_provider_answer(
    *,
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    answer: ProviderPayment | ProviderOutcomeUnknown | ProviderRejected,
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, str] | None = None,
) -> PaymentRecord:
    """Apply what a provider call answered, in one transaction; `source` goes to the audit."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id, for_update=True)
        if payment is None:  # pragma: no cover - committed by the caller
            raise LookupError(payment_id)
        source = source or {"source": "provider_call"}
        if isinstance(answer, ProviderOutcomeUnknown):
            if isinstance(answer, ProviderMisconfigured):
                audit.record_payment(
                    uow,
                    payment,
                    "payment.provider_misconfigured",
                    actor=actor,
                    now=now,
                    details={**source, "code": answer.code, "message": answer.message},
                )
            apply_status(uow, payment, PaymentStatus.UNKNOWN, actor=actor, now=now, source=source)
        elif isinstance(answer, ProviderRejected):
            apply_status(
                uow,
                payment,
                PaymentStatus.FAILED,
                actor=actor,
                now=now,
                source=source,
                failure_code=answer.code,
                failure_message=answer.message,
            )
        else:
            report = PaymentUpdate(
                provider_ref=answer.provider_ref,
                status=answer.status,
                payment_id_hint=None,
                amount=answer.amount,
                amount_received=answer.amount_received,
                failure_code=answer.failure_code,
                failure_message=answer.failure_message,
                capture_id=answer.capture_id,
                fee=answer.fee,
            )
            apply_payment_update(
                uow, payment, report, actor=actor, now=now, source=source, observed=True
            )
        uow.commit()
        return payment


def reschedule_payment(
    uow_factory: UnitOfWorkFactory, payment_id: str, now: datetime, *, status: PaymentStatus
) -> None:
    """A janitor check of an attempt still in `status` settled nothing: check it again later,
    backing off (1 minute, 5 minutes, 1 hour, then daily)."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id, for_update=True)
        if payment is not None and payment.status is status:
            payment.checks += 1
            payment.next_check_at = next_check_at(now=now, checks_done=payment.checks)
            uow.payments.save(payment)
            uow.commit()


def end_attempt(
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    *,
    ending: Collection[PaymentStatus],
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, Any],
) -> PaymentRecord:
    """Cancel the attempt if, under its row lock, it is still in one of the `ending` statuses."""
    with uow_factory() as uow:
        locked = uow.payments.get(payment_id, for_update=True)
        if locked is None:  # pragma: no cover - loaded by the caller
            raise LookupError(payment_id)
        if locked.status in ending:
            apply_status(uow, locked, PaymentStatus.CANCELED, actor=actor, now=now, source=source)
        uow.commit()
        return locked
