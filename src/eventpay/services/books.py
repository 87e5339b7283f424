"""Checking the books, and bringing an older database's history into the ledger.

`verify` re-checks what posting enforces (every transaction sums to zero in each currency)
and that each order's postings agree with its attempts: the money each provider holds for it
(its succeeded payments less its succeeded refunds there) and the shares of the organizers, the
platform fee and any over-payment (`domain.order_discrepancy`). It names the first thing that
is wrong and counts the rest. `backfill` posts, once, the history of orders whose money moved
before the ledger existed; an order that has any posting is left alone, so it can be run any
number of times.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from eventpay.domain import PaymentStatus, RefundStatus, order_discrepancy, order_movement
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.services.errors import NotFound
from eventpay.services.settlement.ledger import shares_of
from eventpay.services.views import counted_amount


@dataclass(slots=True)
class BooksReport:
    orders: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _net_by_provider(uow: UnitOfWork, order_id: str) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for payment in uow.payments.list_for_order(order_id):
        if payment.status is PaymentStatus.SUCCEEDED:
            net[payment.provider.value] += counted_amount(payment)
    for refund in uow.refunds.list_for_order(order_id):
        if refund.status is RefundStatus.SUCCEEDED:
            net[refund.provider.value] -= refund.amount
    return dict(net)


def verify(*, uow_factory: UnitOfWorkFactory) -> BooksReport:
    report = BooksReport()
    with uow_factory() as uow:
        for cause, currency, total in uow.ledger.unbalanced():
            report.problems.append(f"transaction {cause} does not balance: {total} {currency}")
        order_ids = sorted(
            {*uow.ledger.order_ids(), *uow.payments.order_ids(status=PaymentStatus.SUCCEEDED)}
        )
        for order_id in order_ids:
            order = uow.orders.get(order_id)
            if order is None:
                report.problems.append(f"order {order_id}: postings for an order that is missing")
                continue
            report.orders += 1
            problem = order_discrepancy(
                order_id=order_id,
                shares=shares_of(uow, order),
                net_by_provider=_net_by_provider(uow, order_id),
                postings=uow.ledger.postings_for_order(order_id),
            )
            if problem is not None:
                if not uow.ledger.has_order(order_id):
                    problem += " (no postings at all: run `eventpay ledger backfill`)"
                report.problems.append(problem)
    return report


def backfill(*, uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Post the history of every order with money and no postings; how many were posted."""
    with uow_factory() as uow:
        order_ids = uow.payments.order_ids(status=PaymentStatus.SUCCEEDED)
    posted = 0
    for order_id in order_ids:
        with uow_factory() as uow:
            order = uow.orders.get(order_id, for_update=True)
            if order is None or uow.ledger.has_order(order_id):
                continue
            shares, net = shares_of(uow, order), 0
            for provider, moved in sorted(_net_by_provider(uow, order_id).items()):
                transaction = order_movement(
                    cause=f"backfill:order:{order_id}:{provider}",
                    kind="backfill",
                    order_id=order_id,
                    shares=shares,
                    provider=provider,
                    net_before=net,
                    net_after=net + moved,
                )
                net += moved
                if transaction is not None:
                    uow.ledger.post(transaction, at=now)
            uow.commit()
            posted += 1
    return posted


def verify_for(*, uow_factory: UnitOfWorkFactory, caller: Principal) -> BooksReport:
    """`verify` for an operator or auditor (admins); anyone else is told there is nothing."""
    if caller.role is not Role.ADMIN:
        raise NotFound("not_found", "Not found.")
    return verify(uow_factory=uow_factory)
