"""Reading an order as the domain sees it: its attempts, refunds and derived status.

A leaf of the services: every other service module reads orders through here, and nothing
here changes anything or calls another service. The order's status is derived from its
payment and refund attempts each time it is read (`derive_order_status`), never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import (
    OrderStatus,
    PaymentFunds,
    PaymentStatus,
    PaymentSummary,
    derive_order_status,
    summarize,
)
from eventpay.domain import counted_amount as _counted
from eventpay.domain.orders import AttemptAmount, RefundAmount
from eventpay.ports import (
    OrderRecord,
    PaymentRecord,
    Principal,
    RefundRecord,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.services.errors import NotFound


@dataclass(frozen=True, slots=True)
class OrderView:
    order: OrderRecord
    status: OrderStatus
    summary: PaymentSummary
    payments: Sequence[PaymentRecord]
    refunds: Sequence[RefundRecord]

    def funds(self) -> list[PaymentFunds]:
        """Each succeeded payment with its refunds, newest first (refunds take from there)."""
        newest_first = sorted(self.payments, key=lambda p: (p.created_at, p.id), reverse=True)
        return [
            PaymentFunds(
                payment_id=p.id,
                received=self.order.money(counted_amount(p)),
                refunds=tuple(
                    RefundAmount(status=r.status, amount=self.order.money(r.amount))
                    for r in self.refunds
                    if r.payment_id == p.id
                ),
            )
            for p in newest_first
            if p.status is PaymentStatus.SUCCEEDED
        ]


def counted_amount(payment: PaymentRecord) -> int:
    """What an attempt contributes once succeeded (the domain's rule, on a record)."""
    return _counted(requested=payment.amount, received=payment.amount_received)


def view_of(uow: UnitOfWork, order: OrderRecord, *, now: datetime) -> OrderView:
    payments = uow.payments.list_for_order(order.id)
    refunds = uow.refunds.list_for_order(order.id)
    attempts = [
        AttemptAmount(status=p.status, amount=order.money(counted_amount(p))) for p in payments
    ]
    refund_amounts = [RefundAmount(status=r.status, amount=order.money(r.amount)) for r in refunds]
    total = order.money(order.total)
    status = derive_order_status(
        total=total,
        payments=attempts,
        refunds=refund_amounts,
        cancelled=order.cancelled_at is not None,
        expires_at=order.expires_at,
        now=now,
    )
    summary = summarize(total=total, payments=attempts, refunds=refund_amounts)
    return OrderView(
        order=order, status=status, summary=summary, payments=payments, refunds=refunds
    )


def view_of_new(order: OrderRecord, *, now: datetime) -> OrderView:
    """The view of an order just placed: no attempts yet, so nothing to read."""
    total = order.money(order.total)
    status = derive_order_status(
        total=total,
        payments=[],
        refunds=[],
        cancelled=order.cancelled_at is not None,
        expires_at=order.expires_at,
        now=now,
    )
    summary = summarize(total=total, payments=[], refunds=[])
    return OrderView(order=order, status=status, summary=summary, payments=[], refunds=[])


def load_owned(
    uow: UnitOfWork, *, order_id: str, caller: Principal, for_update: bool = False
) -> OrderRecord:
    """The order if the caller may see it; otherwise NotFound, exactly as if it did not exist."""
    order = uow.orders.get(order_id, for_update=for_update)
    if order is None or (caller.role is not Role.ADMIN and order.buyer_id != caller.user_id):
        raise NotFound("order_not_found", "No such order.", {"order_id": order_id})
    return order


def order_status(uow_factory: UnitOfWorkFactory, order_id: str, *, now: datetime) -> OrderStatus:
    """The order's derived status, read in a unit of work of its own."""
    with uow_factory() as uow:
        order = uow.orders.get(order_id)
        if order is None:  # pragma: no cover - callers hold a row that refers to it
            raise LookupError(f"order {order_id} is missing")
        return view_of(uow, order, now=now).status
