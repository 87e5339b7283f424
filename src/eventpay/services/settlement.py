"""Applying a provider-confirmed status to a payment attempt, and its consequences.

The one place where a payment attempt changes state after creation, whoever learned of it (a
webhook, a provider read after a create call, the janitor). The domain's transition table
decides whether the change applies: a duplicate or older status changes nothing. When a
success makes the order paid, its registrations are confirmed in the same transaction; a
success on an order that was already paid is recorded as an over-payment for a person (or the
automatic refund of a later issue) to return, never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from eventpay.domain import (
    OrderStatus,
    PaymentStatus,
    RefundKind,
    Transition,
    resolve_observed,
    transition,
)
from eventpay.domain.orders import RegistrationStatus, registration_status_for
from eventpay.ports import PaymentRecord, Principal, UnitOfWork
from eventpay.services import audit
from eventpay.services.orders import counted_amount, view_of
from eventpay.services.refunds import request_refund

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
    received = counted_amount(payment)
    was_paid = view.summary.paid.amount - received >= order.total
    excess = min(received, view.summary.overpaid.amount)
    if excess > 0:
        _refund_excess(uow, payment, excess, was_paid=was_paid, actor=actor, now=now)
    if was_paid or view.status is not OrderStatus.PAID:
        return
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
    target = registration_status_for(view.status)
    for reg in order.registrations:
        if reg.status is RegistrationStatus.PENDING and target is RegistrationStatus.CONFIRMED:
            uow.orders.set_registration_status(reg.id, target, at=now)
            audit.record(
                uow,
                entity_type="registration",
                entity_id=reg.id,
                order_id=order.id,
                payment_id=payment.id,
                action="registration.confirmed",
                actor=actor,
                now=now,
                details={"event_id": reg.event_id, "class_ids": reg.class_ids},
            )


def _refund_excess(
    uow: UnitOfWork,
    payment: PaymentRecord,
    excess: int,
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
        details={"overpaid": excess, "currency": payment.currency, "reason": reason},
    )
    log.warning("order.overpaid", order_id=payment.order_id, payment_id=payment.id)
    request_refund(
        uow,
        payment=payment,
        amount=excess,
        kind=RefundKind.OVERPAYMENT,
        reason=f"automatic: {reason} (order {payment.order_id}, payment {payment.id})",
        actor=actor,
        now=now,
    )
