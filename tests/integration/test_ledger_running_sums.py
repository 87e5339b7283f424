"""The ledger's running sums and the fast verify they allow, in the real databases.

`post` keeps `ledger_order_sums` (each order's postings summed per account); on PostgreSQL,
verify proves them equal to the postings by a checksum and then groups the orders by their
figures in the database, judging one order per class (`db.ledger_checks`). These tests plant
errors the way code would make them (through `post`, so the running sums follow) and the way a
hand edit would (the running sums alone changed), and check that verify still gives the
per-order oracle's answer (`support.books_oracle`), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, Posting, build
from eventpay.ports import Principal, Role
from eventpay.services import books
from support.books_oracle import per_order_problems
from support.paid_orders import new_buyer, paid_order

BUYER = Principal(user_id="competitor-sums", role=Role.COMPETITOR)
AT = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _orders(c: Container, sandbox: str, n: int) -> list[str]:
    return sorted(paid_order(c, sandbox, buyer=new_buyer(BUYER.user_id)) for _ in range(n))


def _sums(c: Container) -> dict[tuple[str, str, str, str], int]:
    with c.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT order_id, kind, owner, currency, amount FROM ledger_order_sums")
        )
        return {(o, k, w, cur): int(a) for o, k, w, cur, a in rows}


def _postings_summed(c: Container) -> dict[tuple[str, str, str, str], int]:
    with c.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT order_id, kind, owner, currency, SUM(amount) FROM ledger_postings"
                " WHERE order_id IS NOT NULL GROUP BY order_id, kind, owner, currency"
            )
        )
        return {(o, k, w, cur): int(a) for o, k, w, cur, a in rows}


def _post(c: Container, transaction: LedgerTransaction) -> None:
    with c.uow_factory() as uow:
        assert uow.ledger.post(transaction, at=AT)
        uow.commit()


def _wrong_fee(c: Container, order_id: str) -> None:
    """A balanced transaction giving the order's organizer 1 minor unit of the fee, posted as
    buggy code would post it."""
    with c.uow_factory() as uow:
        payable = next(
            p.account
            for p in uow.ledger.postings_for_order(order_id)
            if p.account.kind is AccountKind.ORGANIZER_PAYABLE
        )
    fee = Account(AccountKind.PLATFORM_FEE_REVENUE, "", payable.currency)
    transaction = build(
        cause=f"bug:fee:{order_id}", kind="bug", order_id=order_id, amounts={fee: 1, payable: -1}
    )
    assert transaction is not None
    _post(c, transaction)


def _fast_path_taken(c: Container) -> bool:
    with c.uow_factory() as uow:
        uow.ledger_checks.snapshot()
        return uow.ledger_checks.order_classes() is not None


def _is_postgres(c: Container) -> bool:
    return c.engine.dialect.name == "postgresql"


def test_post_keeps_each_orders_sums_equal_to_its_postings(
    container: Container, stripe_sandbox: str
) -> None:
    paid = _orders(container, stripe_sandbox, 2)
    _wrong_fee(container, paid[0])
    _wrong_fee(container, paid[1])

    assert _sums(container) == _postings_summed(container)
    assert {order for order, *_ in _sums(container)} == set(paid)


def test_a_transaction_without_an_order_adds_to_no_orders_sums(
    container: Container, stripe_sandbox: str
) -> None:
    _orders(container, stripe_sandbox, 1)
    before = _sums(container)
    # As payouts and Connect transfers post: no order (a correction here, so that neither
    # of their own checks claims it).
    revenue = Account(AccountKind.PLATFORM_FEE_REVENUE, "", "usd")
    credit = Account(AccountKind.CUSTOMER_CREDIT, "buyer-x", "usd")
    _post(
        container,
        LedgerTransaction(
            cause="correction:sums-test",
            kind="correction",
            postings=(Posting(revenue, 500), Posting(credit, -500)),
        ),
    )

    assert _sums(container) == before
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems
    assert _fast_path_taken(container) == _is_postgres(container)


def test_wrong_postings_from_code_are_named_as_the_per_order_rule_names_them(
    container: Container, stripe_sandbox: str
) -> None:
    paid = _orders(container, stripe_sandbox, 5)
    for order_id in paid[1:4]:  # three orders alike, all wrong alike: one class, judged whole
        _wrong_fee(container, order_id)

    report = books.verify(uow_factory=container.uow_factory)

    assert (report.orders, report.problems) == per_order_problems(container.uow_factory)
    assert [p.split(":")[0] for p in report.problems] == [f"order {o}" for o in paid[1:4]]
    if _is_postgres(container):
        with container.uow_factory() as uow:
            classes = uow.ledger_checks.order_classes()
        assert classes is not None
        assert sorted(c.orders for c in classes.classes) == [2, 3]


def test_an_unbalanced_transaction_without_an_order_is_named(
    container: Container, stripe_sandbox: str
) -> None:
    _orders(container, stripe_sandbox, 2)
    with container.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_transactions (id, cause, kind, order_id, created_at)"
                " VALUES ('half', 'planted:half', 'planted', NULL, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ledger_postings (id, transaction_id, kind, owner, currency, amount,"
                " order_id) VALUES ('half-0', 'half', 'provider_clearing', 'stripe', 'usd', 7,"
                " NULL)"
            )
        )

    report = books.verify(uow_factory=container.uow_factory)

    assert report.problems == ["transaction planted:half does not balance: 7 usd"]
    assert (report.orders, report.problems) == per_order_problems(container.uow_factory)


def test_running_sums_changed_by_hand_do_not_change_the_answer(
    container: Container, stripe_sandbox: str
) -> None:
    paid = _orders(container, stripe_sandbox, 3)
    _wrong_fee(container, paid[1])
    expected = per_order_problems(container.uow_factory)
    with container.engine.begin() as conn:
        # Hide the wrong fee from the sums, and break a clean order's sums instead.
        conn.execute(
            text(
                "UPDATE ledger_order_sums SET amount = amount - 1"
                " WHERE order_id = :o AND kind = 'platform_fee_revenue'"
            ),
            {"o": paid[1]},
        )
        conn.execute(
            text(
                "UPDATE ledger_order_sums SET amount = amount + 5"
                " WHERE order_id = :o AND kind = 'platform_fee_revenue'"
            ),
            {"o": paid[2]},
        )

    assert not _fast_path_taken(container)
    report = books.verify(uow_factory=container.uow_factory)
    assert (report.orders, report.problems) == expected
    assert len(report.problems) == 1
    assert paid[1] in report.problems[0]
