"""`eventpay ledger verify` in the real databases: bulk reads, the per-order rule's answers.

On SQLite and PostgreSQL: orders paid at the Stripe sandbox (one also half refunded), then
errors planted with plain SQL, as a hand edit or a bad import would leave them: a refund whose
posting is missing, a wrong platform fee, an unbalanced transaction, postings of an order that
does not exist. `books.verify` must name the same problems in the same order as the per-order
oracle (`support.books_oracle`), for any chunk size; and the number of statements it sends does
not grow with the number of orders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from eventpay.bootstrap import Container
from eventpay.ports import Principal, Role
from eventpay.services import books, withdrawals
from support.books_oracle import per_order_problems
from support.paid_orders import new_buyer, paid_order

BUYER = Principal(user_id="competitor-books", role=Role.COMPETITOR)
ADMIN = Principal(user_id="ops-books", role=Role.ADMIN)


def _paid_order(c: Container, sandbox: str) -> str:
    return paid_order(c, sandbox, buyer=new_buyer(BUYER.user_id))


def _books(c: Container, sandbox: str) -> list[str]:
    paid = [_paid_order(c, sandbox) for _ in range(4)]
    with c.uow_factory() as uow:
        order = uow.orders.get(paid[2])
    assert order is not None
    withdrawals.request(
        uow_factory=c.uow_factory,
        providers=c.providers,
        caller=ADMIN,
        order_id=paid[2],
        amount=order.total // 2,
        reason="goodwill",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=c.clock,
    )
    return sorted(paid)


def _sql(c: Container, statement: str, **params: object) -> None:
    with c.engine.begin() as conn:
        conn.execute(text(statement), params)


def _transaction(c: Container, cause: str, order_id: str, *postings: tuple[str, str, int]) -> None:
    _sql(
        c,
        "INSERT INTO ledger_transactions (id, cause, kind, order_id, created_at)"
        " VALUES (:id, :id, 'planted', :o, CURRENT_TIMESTAMP)",
        id=cause,
        o=order_id,
    )
    for n, (kind, owner, amount) in enumerate(postings):
        _sql(
            c,
            "INSERT INTO ledger_postings (id, transaction_id, kind, owner, currency, amount,"
            " order_id) VALUES (:id, :t, :k, :w, 'usd', :a, :o)",
            id=f"{cause}-{n}",
            t=cause,
            k=kind,
            w=owner,
            a=amount,
            o=order_id,
        )


def refund_without_posting(c: Container, order_id: str) -> None:
    _sql(
        c,
        "INSERT INTO refunds (id, order_id, payment_id, provider, amount, currency, status,"
        " reason, kind, idempotency_key, created_at, updated_at, next_check_at, checks)"
        " SELECT 'planted-' || id, order_id, id, provider, 100, currency, 'succeeded',"
        " 'planted', 'customer', 'planted-' || id, created_at, created_at, created_at, 0"
        " FROM payments WHERE order_id = :o",
        o=order_id,
    )


def wrong_fee(c: Container, order_id: str) -> None:
    with c.engine.connect() as conn:
        owner = (
            conn.execute(
                text(
                    "SELECT owner FROM ledger_postings WHERE order_id = :o"
                    " AND kind = 'organizer_payable'"
                ),
                {"o": order_id},
            )
            .scalars()
            .first()
        )
    assert owner is not None
    _transaction(
        c,
        f"planted:fee:{order_id}",
        order_id,
        ("platform_fee_revenue", "", 1),
        ("organizer_payable", owner, -1),
    )


def unbalanced(c: Container, order_id: str) -> None:
    _transaction(c, f"planted:half:{order_id}", order_id, ("provider_clearing", "stripe", 5))


def missing_order(c: Container, order_id: str) -> None:
    _transaction(c, f"planted:gone:{order_id}", f"gone-{order_id}", ("overpayment", "", 0))


PLANTS: list[Callable[[Container, str], None]] = [
    refund_without_posting,
    wrong_fee,
    unbalanced,
    missing_order,
]


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.__name__)
def test_a_planted_error_is_named_as_the_per_order_rule_names_it(
    container: Container,
    stripe_sandbox: str,
    plant: Callable[[Container, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paid = _books(container, stripe_sandbox)
    assert books.verify(uow_factory=container.uow_factory).clean

    plant(container, paid[2])

    expected = per_order_problems(container.uow_factory)
    for chunk in (1, 3, 1000):
        monkeypatch.setattr(books, "CHUNK", chunk)
        report = books.verify(uow_factory=container.uow_factory)
        assert (report.orders, report.problems) == expected
        assert paid[2] in report.problems[0]


def test_several_errors_come_unbalanced_first_then_by_order(
    container: Container, stripe_sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(books, "CHUNK", 2)
    paid = _books(container, stripe_sandbox)
    wrong_fee(container, paid[3])
    refund_without_posting(container, paid[0])
    unbalanced(container, paid[1])

    report = books.verify(uow_factory=container.uow_factory)

    assert report.problems[0].startswith(f"transaction planted:half:{paid[1]} does not balance")
    assert [p.split(":")[0] for p in report.problems[1:]] == [
        f"order {paid[0]}",
        f"order {paid[1]}",
        f"order {paid[3]}",
    ]
    assert (report.orders, report.problems) == per_order_problems(container.uow_factory)


def test_the_number_of_statements_does_not_grow_with_the_orders(
    container: Container, stripe_sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(books, "CHUNK", 1000)
    statements: list[str] = []

    def count(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def verified() -> int:
        statements.clear()
        event.listen(container.engine, "before_cursor_execute", count)
        try:
            assert books.verify(uow_factory=container.uow_factory).clean
        finally:
            event.remove(container.engine, "before_cursor_execute", count)
        return len(statements)

    _paid_order(container, stripe_sandbox)
    with_one = verified()
    _books(container, stripe_sandbox)

    assert verified() == with_one  # five orders, the same few statements
