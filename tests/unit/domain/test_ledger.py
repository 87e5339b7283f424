"""The ledger's rules: balanced transactions, order shares, positions, movements and checks."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    Account,
    AccountKind,
    LedgerError,
    LedgerTransaction,
    Money,
    Posting,
    order_discrepancy,
    order_movement,
    order_position,
    order_shares,
    provider_fee,
)
from eventpay.domain.ledger import build, sums_by_currency

K = AccountKind


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def acct(kind: AccountKind, owner: str = "", currency: str = "usd") -> Account:
    return Account(kind, owner, currency)


def test_a_transaction_must_balance_in_every_currency() -> None:
    with pytest.raises(LedgerError, match="does not balance"):
        LedgerTransaction(
            cause="x",
            kind="test",
            postings=(
                Posting(acct(K.PROVIDER_CLEARING, "stripe"), 100),
                Posting(acct(K.ORGANIZER_PAYABLE, "o", "eur"), -100),
            ),
        )
    with pytest.raises(LedgerError, match="cause"):
        LedgerTransaction(cause="", kind="test", postings=())
    ok = LedgerTransaction(
        cause="y",
        kind="test",
        postings=(Posting(acct(K.PROVIDER_CLEARING), 5), Posting(acct(K.OVERPAYMENT), -5)),
    )
    assert sums_by_currency(ok.postings) == {"usd": 0}
    assert acct(K.ORGANIZER_PAYABLE, "org_1").code == "organizer_payable:org_1:usd"


def test_nothing_to_post_is_no_transaction() -> None:
    assert build(cause="z", kind="test", amounts={acct(K.OVERPAYMENT): 0}) is None


def test_shares_follow_the_lines_of_each_organizer() -> None:
    shares = order_shares(
        total=usd(10000), platform_fee=usd(500), lines=[("a", 6000), ("b", 3000), ("a", 1000)]
    )
    assert dict(shares.gross) == {"a": 7000, "b": 3000}
    assert dict(shares.fee) == {"a": 350, "b": 150}
    lonely = order_shares(total=usd(100), platform_fee=usd(5), lines=[])
    assert dict(lonely.gross) == {"": 100}
    free_lines = order_shares(total=usd(100), platform_fee=usd(5), lines=[("a", 0), ("b", 0)])
    assert dict(free_lines.gross) == {"a": 100, "b": 0}
    with pytest.raises(LedgerError, match="non-negative"):
        order_shares(total=usd(100), platform_fee=Money(5, "eur"), lines=[])


def test_the_position_caps_at_the_total_and_the_rest_is_owed_back() -> None:
    shares = order_shares(total=usd(10000), platform_fee=usd(500), lines=[("a", 1)])
    full = order_position(shares, 10000)
    assert (dict(full.payable), dict(full.fee), full.overpaid) == ({"a": 9500}, {"a": 500}, 0)
    double = order_position(shares, 20000)
    assert (dict(double.payable), double.overpaid) == ({"a": 9500}, 10000)
    half = order_position(shares, 5000)
    assert (dict(half.payable), dict(half.fee)) == ({"a": 4750}, {"a": 250})
    free = order_shares(total=usd(0), platform_fee=usd(0), lines=[("a", 0)])
    assert dict(order_position(free, 300).payable) == {"a": 0}
    assert order_position(free, 300).overpaid == 300


def _apply(balances: dict[Account, int], transaction: LedgerTransaction | None) -> None:
    if transaction is not None:
        for posting in transaction.postings:
            balances[posting.account] += posting.amount


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 10**6)), min_size=1, max_size=4
    ),
    fee_permille=st.integers(0, 1000),
    moves=st.lists(st.integers(-(10**6), 2 * 10**6), max_size=8),
    currency=st.sampled_from(["usd", "jpy", "kwd"]),
)
def test_any_sequence_of_movements_adds_up_to_the_final_position(
    lines: list[tuple[str, int]], fee_permille: int, moves: list[int], currency: str
) -> None:
    total = sum(amount for _, amount in lines)
    shares = order_shares(
        total=Money(total, currency),
        platform_fee=Money(total * fee_permille // 1000, currency),
        lines=lines,
    )
    balances: dict[Account, int] = defaultdict(int)
    net = 0
    for n, move in enumerate(moves):
        after = max(net + move, 0)  # a refund never takes more than is held
        _apply(
            balances,
            order_movement(
                cause=f"m{n}",
                kind="t",
                order_id="o",
                shares=shares,
                provider="stripe",
                net_before=net,
                net_after=after,
            ),
        )
        net = after
    final = order_position(shares, net)
    assert balances[Account(K.PROVIDER_CLEARING, "stripe", currency)] == net
    for owner, payable in final.payable.items():
        assert -balances[Account(K.ORGANIZER_PAYABLE, owner, currency)] == payable
    assert -balances[Account(K.PLATFORM_FEE_REVENUE, "", currency)] == sum(final.fee.values())
    assert -balances[Account(K.OVERPAYMENT, "", currency)] == final.overpaid
    assert sum(final.payable.values()) + sum(final.fee.values()) == min(net, total)
    for owner, fee in final.fee.items():
        share = final.payable[owner] + fee
        # Never more fee than the proportional part, rounded down; all of it at the full share.
        assert fee * shares.gross[owner] <= shares.fee[owner] * share
        if net >= total:
            assert (share, fee) == (shares.gross[owner], shares.fee[owner])


def test_a_provider_fee_is_an_expense_out_of_clearing() -> None:
    fee = provider_fee(cause="f", order_id="o", provider="stripe", fee=usd(175))
    assert fee is not None
    assert {p.account.kind: p.amount for p in fee.postings} == {
        K.PROVIDER_FEE_EXPENSE: 175,
        K.PROVIDER_CLEARING: -175,
    }


def test_an_order_check_names_the_first_thing_wrong() -> None:
    shares = order_shares(total=usd(1000), platform_fee=usd(50), lines=[("a", 1)])
    paid = order_movement(
        cause="p",
        kind="t",
        order_id="o",
        shares=shares,
        provider="stripe",
        net_before=0,
        net_after=1000,
    )
    assert paid is not None
    good = order_discrepancy(
        order_id="o", shares=shares, net_by_provider={"stripe": 1000}, postings=paid.postings
    )
    assert good is None
    short = order_discrepancy(
        order_id="o", shares=shares, net_by_provider={"stripe": 1200}, postings=paid.postings
    )
    assert short is not None
    assert "stripe holds 1000" in short
    skewed = (*paid.postings, Posting(acct(K.PLATFORM_FEE_REVENUE), -1))
    wrong_fee = order_discrepancy(
        order_id="o", shares=shares, net_by_provider={"stripe": 1000}, postings=skewed
    )
    assert wrong_fee is not None
    assert "platform_fee_revenue" in wrong_fee


def test_stored_shares_must_add_up_to_the_order() -> None:
    from eventpay.domain.ledger import order_shares_given

    given = order_shares_given(
        total=usd(12400), platform_fee=usd(726), by_organizer={"b": (8400, 580), "a": (4000, 146)}
    )
    assert (dict(given.gross), dict(given.fee)) == ({"a": 4000, "b": 8400}, {"a": 146, "b": 580})
    assert dict(order_position(given, 12400).payable) == {"a": 3854, "b": 7820}
    for wrong in ({"a": (4000, 146)}, {"a": (12400, 700)}, {}):
        with pytest.raises(LedgerError, match="stored shares"):
            order_shares_given(total=usd(12400), platform_fee=usd(726), by_organizer=wrong)


def test_stored_shares_win_over_the_lines() -> None:
    from eventpay.domain.ledger import shares_for

    stored = shares_for(
        total=usd(1000), platform_fee=usd(60), stored={"a": (1000, 60)}, lines=[("b", 1)]
    )
    by_lines = shares_for(total=usd(1000), platform_fee=usd(60), stored=None, lines=[("b", 1)])
    assert (dict(stored.gross), dict(by_lines.gross)) == ({"a": 1000}, {"b": 1000})
