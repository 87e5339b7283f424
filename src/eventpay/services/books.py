"""Checking the books, and bringing an older database's history into the ledger.

`verify` re-checks what posting enforces (every transaction sums to zero in each currency)
and that each order's postings agree with its attempts: the money each provider holds for it
(its succeeded payments less its succeeded refunds there) and the shares of the organizers, the
platform fee and any over-payment (`domain.order_discrepancy`). It names the first thing that
is wrong and counts the rest. `backfill` posts, once, the history of orders whose money moved
before the ledger existed; an order that has any posting is left alone, so it can be run any
number of times.

Both read the orders in bulk (`LedgerCheckRepository`: chunks of `CHUNK` orders, a few grouped
queries each) and apply the domain's per-order rule in Python, so a million payments cost a few
hundred queries and a chunk's worth of memory, not millions of queries. Where the database can
group the orders by their figures (`order_classes`: PostgreSQL, when the ledger's running sums
match its postings), verify judges one order per class instead, and every order of a class
found wrong; the answers are the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from eventpay.domain import (
    Account,
    AccountKind,
    Money,
    PaymentStatus,
    Posting,
    RefundStatus,
    order_discrepancy,
    order_movement,
)
from eventpay.domain.ledger import OrderShares, shares_for
from eventpay.domain.payouts import payout_discrepancy
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.repositories import LedgerCheckRepository, OrderBooks, OrderClasses
from eventpay.services.errors import NotFound
from eventpay.services.settlement.ledger import shares_of
from eventpay.services.settlement.payouts import facts
from eventpay.services.settlement.transfer_checks import verify_transfers
from eventpay.services.views import counted_amount

CHUNK = 50_000
"""Orders read per statement of `LedgerCheckRepository.order_books`: memory is bounded by it
(about 50 MB), and a million payments are about twenty statements. Larger chunks read fewer
table pages in all: order ids are random, so a chunk's rows lie all over each table."""

_NO_POSTINGS = " (no postings at all: run `eventpay ledger backfill`)"


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


@lru_cache(maxsize=4096)
def _shares(
    currency: str,
    total: int,
    platform_fee: int,
    stored: tuple[tuple[str, int, int], ...],
    lines: tuple[tuple[str, int], ...],
) -> OrderShares:
    """`settlement.ledger.shares_of`, from bulk-read figures: as priced when the order stored
    its shares, else by its lines' amounts. Orders of the same classes at the same prices share
    their split, so it is computed once for them."""
    return shares_for(
        total=Money(total, currency),
        platform_fee=Money(platform_fee, currency),
        stored={organizer: (gross, fee) for organizer, gross, fee in stored},
        lines=lines,
    )


_VERDICTS_KEPT = 100_000


def _is_clean(books: OrderBooks, verdicts: dict[tuple[object, ...], bool]) -> bool:
    """Whether `discrepancy(books)` is None, remembered for orders with the same figures.

    The rule's verdict depends on an order's figures only (its id just names it in the
    message), and most orders repeat a few: the same classes at the same prices, paid the
    same ways. So the rule runs once per distinct set of figures, not once per order.
    """
    key = (
        books.currency,
        books.total,
        books.platform_fee,
        books.shares,
        books.lines,
        books.net_by_provider,
        books.held,
    )
    verdict = verdicts.get(key)
    if verdict is None:
        if len(verdicts) >= _VERDICTS_KEPT:
            verdicts.clear()
        verdict = verdicts[key] = discrepancy(books) is None
    return verdict


def discrepancy(books: OrderBooks) -> str | None:
    """`domain.order_discrepancy` for an order read in bulk (`LedgerCheckRepository`)."""
    problem = order_discrepancy(
        order_id=books.order_id,
        shares=_shares(books.currency, books.total, books.platform_fee, books.shares, books.lines),
        net_by_provider=dict(books.net_by_provider),
        postings=[
            Posting(Account(AccountKind(kind), owner, currency), amount)
            for kind, owner, currency, amount in books.held
        ],
    )
    if problem is not None and not books.posted:
        problem += _NO_POSTINGS
    return problem


def verify(*, uow_factory: UnitOfWorkFactory) -> BooksReport:
    """Every transaction balances, and every order with money or postings agrees with its
    attempts; problems in the order of their cause, then of their order's id."""
    report = BooksReport()
    found: list[tuple[str, str]] = []
    verdicts: dict[tuple[object, ...], bool] = {}  # this run's, by an order's figures
    with uow_factory() as uow:
        checks = uow.ledger_checks
        checks.snapshot()
        for cause, currency, total in checks.unbalanced():
            report.problems.append(f"transaction {cause} does not balance: {total} {currency}")
        classes = checks.order_classes()
        orphans = checks.orphans() if classes is None else classes.orphans
        found.extend(
            (order_id, f"order {order_id}: postings for an order that is missing")
            for order_id in orphans
        )
        if classes is not None:
            report.orders = _verify_classes(checks, classes, verdicts, found)
        after: str | None = "" if classes is None else None
        while after is not None:
            chunk, after = checks.order_books(after=after, limit=CHUNK)
            report.orders += len(chunk)
            for books in chunk:
                if not _is_clean(books, verdicts):
                    found.append((books.order_id, str(discrepancy(books))))
    # Chunks follow the database's string order; the report follows Python's, as it always did.
    report.problems.extend(problem for _, problem in sorted(found, key=lambda f: f[0]))
    # Stripe Connect transfers post without an order: checked on their own.
    report.problems.extend(verify_transfers(uow_factory=uow_factory))
    # So do payouts: each one's postings must say where it is now.
    report.problems.extend(_payout_problems(uow_factory))
    return report


def _payout_problems(uow_factory: UnitOfWorkFactory) -> list[str]:
    problems = []
    with uow_factory() as uow:
        for payout, payout_id, postings in uow.payouts.with_postings():
            if payout is None:
                problems.append(f"payout {payout_id}: postings for a payout that is missing")
                continue
            found = payout_discrepancy(facts(payout), payout.status, payout.fee, postings)
            if found is not None:
                problems.append(found)
    return problems


def _verify_classes(
    checks: LedgerCheckRepository,
    classes: OrderClasses,
    verdicts: dict[tuple[object, ...], bool],
    found: list[tuple[str, str]],
) -> int:
    """Judge one order of each class (the database grouped orders with the same figures); in a
    class found wrong, read and judge every order. How many orders the classes hold."""
    judged = checks.books_of([c.first for c in classes.classes])
    firsts = {books.order_id: books for books in judged}
    for c in classes.classes:
        books = firsts.get(c.first)
        if books is None or _is_clean(books, verdicts):
            continue
        members = [c.first, c.last] if c.orders <= 2 else checks.class_members(c.key)
        for member in checks.books_of(members):
            if not _is_clean(member, verdicts):
                found.append((member.order_id, str(discrepancy(member))))
    return sum(c.orders for c in classes.classes)


def _unposted(uow_factory: UnitOfWorkFactory) -> list[str]:
    """Orders with a succeeded payment and no ledger transaction, read in bulk."""
    unposted: list[str] = []
    with uow_factory() as uow:
        after: str | None = ""
        while after is not None:
            chunk, after = uow.ledger_checks.order_books(after=after, limit=CHUNK)
            unposted.extend(b.order_id for b in chunk if not b.posted)
    return sorted(unposted)


def backfill(*, uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Post the history of every order with money and no postings; how many were posted."""
    posted = 0
    for order_id in _unposted(uow_factory):
        with uow_factory() as uow:
            # Checked again under the order's lock: a payment may have posted meanwhile.
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
