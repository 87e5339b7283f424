"""`ledger verify`'s check of Stripe Connect transfers: each one posted, with the right amount.

The transfer transactions carry no order (an order's own postings stay what its attempts say,
which the order check verifies), so they are checked here, per order with destination
charges: what the ledger moved out of the organizer's payable through those charges' causes
(`payment:<id>:transfer`, `refund:<id>:transfer_reversal`, `refund:<id>:transfer_restored`)
must equal the organizer's payable of the money those charges still hold
(`ledger.order_position`, the rule the postings were made by). When it does not, the first
missing cause is named, else the order and both figures. Separate charges' transfers are
checked row by row: a sent transfer has its `transfer:<row id>:sent` posting of its amount,
a sent reversal its `reversal:<row id>:sent` posting.
"""

from __future__ import annotations

from collections import defaultdict

from eventpay.domain import PaymentStatus, RefundStatus, order_position
from eventpay.ports import ConnectCharge, TransferStatus, UnitOfWork, UnitOfWorkFactory
from eventpay.services.settlement.connect import restored_cause, reversal_cause, transfer_cause
from eventpay.services.settlement.connect_transfers import reversal_sent_cause, sent_cause
from eventpay.services.settlement.ledger import shares_of
from eventpay.services.views import counted_amount


def verify_transfers(*, uow_factory: UnitOfWorkFactory) -> list[str]:
    """Every problem with the transfer postings, by order id."""
    with uow_factory() as uow:
        by_order: dict[str, list[ConnectCharge]] = defaultdict(list)
        for charge in uow.connect.destination_charges():
            by_order[charge.order_id].append(charge)
        problems = [
            problem
            for order_id, charges in sorted(by_order.items())
            if (problem := _order_problem(uow, order_id, charges)) is not None
        ]
        problems.extend(_sent_problems(uow))
        problems.extend(_reversal_problems(uow))
        return problems


def _order_problem(uow: UnitOfWork, order_id: str, charges: list[ConnectCharge]) -> str | None:
    order = uow.orders.get(order_id)
    if order is None:
        return f"order {order_id}: destination charges of an order that is missing"
    organizer = charges[0].organizer_id or ""
    ids = {c.payment_id for c in charges}
    held = 0
    expected_causes: list[str] = []
    for payment in uow.payments.list_for_order(order_id):
        if payment.id in ids and payment.status is PaymentStatus.SUCCEEDED:
            held += counted_amount(payment)
            expected_causes.append(transfer_cause(payment.id))
    possible = list(expected_causes)
    for refund in uow.refunds.list_for_order(order_id):
        if refund.payment_id not in ids:
            continue
        if refund.status is RefundStatus.SUCCEEDED:
            held -= refund.amount
            expected_causes.append(reversal_cause(refund.id))
        possible += [reversal_cause(refund.id), restored_cause(refund.id)]
    shares = shares_of(uow, order)
    want = order_position(shares, held).payable.get(organizer, 0)
    posted = uow.connect.transfer_amounts(possible)
    moved = sum(posted.values())
    if moved == want:
        return None
    missing = [cause for cause in expected_causes if cause not in posted]
    if missing:
        return f"order {order_id}: transfer posting {missing[0]} is missing"
    return (
        f"order {order_id}: transfers to {organizer} are {moved} {order.currency} in the "
        f"ledger, but its destination charges make them {want}"
    )


def _reversal_problems(uow: UnitOfWork) -> list[str]:
    sent = uow.connect.sent_reversals()
    posted = uow.connect.transfer_amounts([reversal_sent_cause(r.id) for r in sent])
    problems = []
    for reversal in sent:
        cause = reversal_sent_cause(reversal.id)
        if posted.get(cause) != -reversal.amount:
            found = "is missing" if cause not in posted else f"moved {posted[cause]}"
            problems.append(
                f"transfer {reversal.transfer_id}: reversal posting {cause} {found}, but "
                f"{reversal.amount} was taken back"
            )
    return problems


def _sent_problems(uow: UnitOfWork) -> list[str]:
    sent = [t for t in uow.connect.sent_transfers() if t.status is TransferStatus.SENT]
    posted = uow.connect.transfer_amounts([sent_cause(t.id) for t in sent])
    problems = []
    for transfer in sent:
        cause = sent_cause(transfer.id)
        if cause not in posted:
            problems.append(f"order {transfer.order_id}: transfer posting {cause} is missing")
        elif posted[cause] != transfer.amount:
            problems.append(
                f"order {transfer.order_id}: transfer posting {cause} moved {posted[cause]} "
                f"{transfer.currency}, but the transfer sent {transfer.amount}"
            )
    return problems
