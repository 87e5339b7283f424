"""The per-order rule of `eventpay ledger verify`, as it was before the bulk reads: the oracle.

`books.verify` reads the orders in chunks with a few grouped queries; this walks every order
through the ordinary repositories (several queries each) and applies the same domain rule.
Tests compare the two on planted errors: same problems, in the same order. Slow on purpose;
never used outside tests.
"""

from __future__ import annotations

from eventpay.domain import order_discrepancy
from eventpay.domain.payments import PaymentStatus
from eventpay.ports import UnitOfWorkFactory
from eventpay.services.books import _net_by_provider
from eventpay.services.settlement.ledger import shares_of


def per_order_problems(uow_factory: UnitOfWorkFactory) -> tuple[int, list[str]]:
    """(orders checked, problems) by the per-order rule."""
    problems: list[str] = []
    checked = 0
    with uow_factory() as uow:
        for cause, currency, total in sorted(uow.ledger.unbalanced()):
            problems.append(f"transaction {cause} does not balance: {total} {currency}")
        order_ids = sorted(
            {*uow.ledger.order_ids(), *uow.payments.order_ids(status=PaymentStatus.SUCCEEDED)}
        )
        for order_id in order_ids:
            order = uow.orders.get(order_id)
            if order is None:
                problems.append(f"order {order_id}: postings for an order that is missing")
                continue
            checked += 1
            problem = order_discrepancy(
                order_id=order_id,
                shares=shares_of(uow, order),
                net_by_provider=_net_by_provider(uow, order_id),
                postings=uow.ledger.postings_for_order(order_id),
            )
            if problem is not None:
                if not uow.ledger.has_order(order_id):
                    problem += " (no postings at all: run `eventpay ledger backfill`)"
                problems.append(problem)
    return checked, problems
