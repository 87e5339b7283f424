"""Posting to the ledger, in the unit of work of the state change that moves the money.

Called by the rest of settlement only: a payment that succeeded, a refund that succeeded (ours
or one made at the provider) and a refund that failed after it had succeeded each post one
transaction (`domain.ledger.order_movement`), keyed by its cause, before the caller commits.
Posting the same cause twice stores nothing (the database keeps causes unique), so a replayed
event can never double a balance. The order's organizers come from its lines' events.
"""

from __future__ import annotations

from datetime import datetime

from eventpay.domain import Money, RefundStatus
from eventpay.domain.ledger import (
    LedgerTransaction,
    OrderShares,
    order_movement,
    provider_fee,
    shares_for,
)
from eventpay.ports import OrderRecord, PaymentRecord, RefundRecord, UnitOfWork
from eventpay.services.settlement import connect
from eventpay.services.views import counted_amount, view_of


def shares_of(uow: UnitOfWork, order: OrderRecord) -> OrderShares:
    """How `order`'s total divides between the organizers of its lines and the platform: as
    priced (each organizer's own fee) when the order stored it, else by line amounts."""
    stored = order.organizer_shares
    lines = []
    for line in [] if stored else order.lines:
        event = None if line.event_id is None else uow.catalog.get_event(line.event_id)
        if event is not None:
            lines.append((event.organizer_id, line.amount))
    return shares_for(
        total=Money(order.total, order.currency),
        platform_fee=Money(order.platform_fee, order.currency),
        stored=None if stored is None else {o: (g, f) for o, (g, f) in stored.items()},
        lines=lines,
    )


def _post(uow: UnitOfWork, transaction: LedgerTransaction | None, now: datetime) -> None:
    if transaction is not None:
        uow.ledger.post(transaction, at=now)


def payment_succeeded(
    uow: UnitOfWork, order: OrderRecord, payment: PaymentRecord, *, net_after: int, now: datetime
) -> None:
    """Money arrived: the order's net (`net_after`, with this payment) rose by what it brought."""
    _post(
        uow,
        order_movement(
            cause=f"payment:{payment.id}:succeeded",
            kind="payment_succeeded",
            order_id=order.id,
            shares=shares_of(uow, order),
            provider=payment.provider.value,
            net_before=net_after - counted_amount(payment),
            net_after=net_after,
        ),
        now,
    )
    connect.payment_settled(
        uow,
        order,
        payment,
        shares_of(uow, order),
        net_before=net_after - counted_amount(payment),
        net_after=net_after,
        actor="settlement",
        now=now,
    )


def refund_moved(uow: UnitOfWork, refund: RefundRecord, *, returned: bool, now: datetime) -> None:
    """A refund succeeded (`returned`: money left) or failed after succeeding (it came back)."""
    order = uow.orders.get(refund.order_id)
    if order is None:  # pragma: no cover - foreign key guarantees it
        raise LookupError(refund.order_id)
    net_after = view_of(uow, order, now=now).summary.net_paid.amount
    change = -refund.amount if returned else refund.amount
    _post(
        uow,
        order_movement(
            cause=f"refund:{refund.id}:{'succeeded' if returned else 'reversed'}",
            kind="refund_succeeded" if returned else "refund_reversed",
            order_id=order.id,
            shares=shares_of(uow, order),
            provider=refund.provider.value,
            net_before=net_after - change,
            net_after=net_after,
        ),
        now,
    )
    connect.refund_settled(
        uow,
        refund,
        shares_of(uow, order),
        returned=returned,
        net_before=net_after - change,
        net_after=net_after,
        now=now,
    )


def fee_cause(payment_id: str) -> str:
    return f"payment:{payment_id}:fee"


def refund_fee_returned(
    uow: UnitOfWork, refund: RefundRecord, fee: Money, *, now: datetime
) -> None:
    """The provider gave back part of its fee with a refund that succeeded (PayPal does): the
    expense shrinks and the provider holds that much more for us. Posted once per refund
    (`refund:<id>:fee`), whichever answer or event says it first."""
    if fee.currency != refund.currency or not fee.is_positive():
        return
    if refund.status is not RefundStatus.SUCCEEDED:
        return
    _post(
        uow,
        provider_fee(
            cause=f"refund:{refund.id}:fee",
            order_id=refund.order_id,
            provider=refund.provider.value,
            fee=Money(-fee.amount, fee.currency),
        ),
        now,
    )


def provider_fee_known(
    uow: UnitOfWork, payment: PaymentRecord, fee: Money, *, now: datetime
) -> bool:
    """The provider said what it kept of a succeeded payment: post it once; True if posted now.

    A fee in another currency than the payment (a balance settled elsewhere) is not ours to
    book against this order and is left out.
    """
    if fee.currency != payment.currency or fee.is_negative():
        return False
    transaction = provider_fee(
        cause=fee_cause(payment.id),
        order_id=payment.order_id,
        provider=payment.provider.value,
        fee=fee,
    )
    return transaction is not None and uow.ledger.post(transaction, at=now)
