"""`books.verify` reads the books in bulk and finds exactly what the per-order rule finds.

A few paid, double-paid and refunded orders, then errors planted straight into the tables as a
bad migration or a hand edit would leave them: a refund without its posting, an order whose
postings are gone, a wrong platform fee, an unbalanced transaction, postings of a missing
order, an order line whose event vanished. The bulk check must report the same problems in the
same order as the per-order oracle (`support.books_oracle`), whatever the chunk size, and
whether the orders are read in chunks or grouped into classes of alike orders (one judged per
class, every order of a wrong class judged).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpay.domain import Account, AccountKind, LedgerTransaction, Posting, RefundStatus
from eventpay.services import books, withdrawals
from support.books_oracle import per_order_problems

from .fakes import FakeLedgerCheckRepository, FakeStore, FakeUnitOfWorkFactory, Tables
from .scenario import ADMIN, World
from .test_refunds import _overpay

BACKFILLED_AT = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def _books() -> tuple[Tables, tuple[str, ...]]:
    """Committed tables with five orders: paid, double paid, half refunded, paid, unpaid."""
    world = World()
    paid = world.place_paid()[0].order.id
    doubled, _, _ = _overpay(world)
    refunded = world.place_paid()[0].order.id
    withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=ADMIN,
        order_id=refunded,
        amount=world.view(refunded).order.total // 2,
        reason="goodwill",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )
    other = world.place_paid()[0].order.id
    world.place_order(buyer=world.new_buyer())  # never paid: not part of the books
    return copy.deepcopy(world.store.tables), (paid, doubled, refunded, other)


def _factory(tables: Tables) -> FakeUnitOfWorkFactory:
    store = FakeStore()
    store.tables = tables
    return FakeUnitOfWorkFactory(store)


def _transaction(
    cause: str, order_id: str | None, postings: list[tuple[AccountKind, str, int]]
) -> LedgerTransaction:
    built = object.__new__(LedgerTransaction)
    for name, value in (
        ("cause", cause),
        ("kind", "planted"),
        ("order_id", order_id),
        ("postings", tuple(Posting(Account(k, o, "usd"), a) for k, o, a in postings)),
    ):
        object.__setattr__(built, name, value)
    return built


def _organizer(t: Tables, order_id: str) -> str:
    return next(
        p.account.owner
        for x in t.ledger.values()
        if x.order_id == order_id
        for p in x.postings
        if p.account.kind is AccountKind.ORGANIZER_PAYABLE
    )


def refund_without_posting(t: Tables, order_id: str) -> None:
    payment = next(p for p in t.payments.values() if p.order_id == order_id)
    t.refunds[f"planted-{order_id}"] = dataclasses.replace(
        next(iter(t.refunds.values())),
        id=f"planted-{order_id}",
        order_id=order_id,
        payment_id=payment.id,
        amount=100,
        status=RefundStatus.SUCCEEDED,
    )


def postings_gone(t: Tables, order_id: str) -> None:
    for cause in [c for c, x in t.ledger.items() if x.order_id == order_id]:
        del t.ledger[cause]


def wrong_fee(t: Tables, order_id: str) -> None:
    moved = [
        (AccountKind.PLATFORM_FEE_REVENUE, "", 1),
        (AccountKind.ORGANIZER_PAYABLE, _organizer(t, order_id), -1),
    ]
    t.ledger[f"planted:fee:{order_id}"] = _transaction(f"planted:fee:{order_id}", order_id, moved)


def unbalanced(t: Tables, order_id: str) -> None:
    one_sided = [(AccountKind.PROVIDER_CLEARING, "stripe", 5)]
    t.ledger[f"planted:half:{order_id}"] = _transaction(
        f"planted:half:{order_id}", order_id, one_sided
    )


def missing_order(t: Tables, order_id: str) -> None:
    gone = f"gone-{order_id}"
    t.ledger[f"planted:gone:{order_id}"] = _transaction(
        f"planted:gone:{order_id}", gone, [(AccountKind.OVERPAYMENT, "", -7)]
    )


def event_gone(t: Tables, order_id: str) -> None:
    order = t.orders[order_id]
    order.organizer_shares = None  # priced before shares were stored: its lines decide
    for line in order.lines:
        line.event_id = "event-deleted"


PLANTS: list[Callable[[Tables, str], None]] = [
    refund_without_posting,
    postings_gone,
    wrong_fee,
    unbalanced,
    missing_order,
    event_gone,
]


def test_clean_books_are_clean_and_count_the_orders_with_money(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(books, "CHUNK", 2)  # three chunks for five orders
    tables, _ = _books()
    factory = _factory(copy.deepcopy(tables))

    report = books.verify(uow_factory=factory)

    assert report.clean, report.problems
    assert (report.orders, report.problems) == per_order_problems(factory)
    assert report.orders == 4


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
@pytest.mark.parametrize("grouped", [True, False], ids=["classes", "chunks"])
def test_each_planted_error_is_named_as_the_per_order_rule_names_it(
    plant: Callable[[Tables, str], None],
    chunk: int,
    grouped: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(books, "CHUNK", chunk)
    monkeypatch.setattr(FakeLedgerCheckRepository, "grouping", grouped)
    tables, orders = _books()
    planted = copy.deepcopy(tables)
    plant(planted, orders[1])
    factory = _factory(planted)

    report = books.verify(uow_factory=factory)

    assert not report.clean
    assert orders[1] in report.problems[0]
    assert (report.orders, report.problems) == per_order_problems(factory)


def test_the_first_problem_is_an_unbalanced_transaction_then_orders_by_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(books, "CHUNK", 2)
    tables, orders = _books()
    planted = copy.deepcopy(tables)
    wrong_fee(planted, orders[3])
    postings_gone(planted, orders[0])
    unbalanced(planted, orders[2])
    factory = _factory(planted)

    report = books.verify(uow_factory=factory)

    assert report.problems[0].startswith(f"transaction planted:half:{orders[2]}")
    named = [next(o for o in orders if o in p) for p in report.problems[1:]]
    assert named == sorted({orders[0], orders[2], orders[3]})
    assert (report.orders, report.problems) == per_order_problems(factory)


@settings(max_examples=60, deadline=None)
@given(
    plants=st.lists(
        st.tuples(st.sampled_from(PLANTS), st.integers(min_value=0, max_value=3)), max_size=5
    ),
    chunk=st.integers(min_value=1, max_value=6),
    grouped=st.booleans(),
)
def test_any_mix_of_planted_errors_reads_as_the_per_order_rule_reads_it(
    plants: list[tuple[Callable[[Tables, str], None], int]], chunk: int, grouped: bool
) -> None:
    tables, orders = _books()
    planted = copy.deepcopy(tables)
    for plant, which in plants:
        if plant is postings_gone or _has_postings(planted, orders[which]):
            plant(planted, orders[which])
    factory = _factory(planted)
    books.CHUNK, before = chunk, books.CHUNK
    FakeLedgerCheckRepository.grouping = grouped
    try:
        report = books.verify(uow_factory=factory)
    finally:
        books.CHUNK = before
        FakeLedgerCheckRepository.grouping = True

    assert (report.orders, report.problems) == per_order_problems(factory)


def _has_postings(t: Tables, order_id: str) -> bool:
    return any(
        x.order_id == order_id and p.account.kind is AccountKind.ORGANIZER_PAYABLE
        for x in t.ledger.values()
        for p in x.postings
    )


def test_backfill_finds_the_unposted_orders_in_bulk() -> None:
    tables, orders = _books()
    planted = copy.deepcopy(tables)
    postings_gone(planted, orders[0])
    postings_gone(planted, orders[2])
    factory = _factory(planted)

    assert books.backfill(uow_factory=factory, now=BACKFILLED_AT) == 2
    assert books.backfill(uow_factory=factory, now=BACKFILLED_AT) == 0
    assert books.verify(uow_factory=factory).clean
