from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.ledger import Account, AccountKind, Posting, sums_by_currency
from eventpay.domain.payouts import (
    PayoutError,
    PayoutFacts,
    PayoutStatus,
    fee_posting,
    next_status,
    payout_discrepancy,
    position,
    posting_for,
    sent_posting,
)

S = PayoutStatus
FACTS = PayoutFacts(
    payout_id="po_1", organizer_id="org-a", provider="paypal", amount=Money(9000, "usd")
)
IN_TRANSIT = Account(AccountKind.PAYOUTS_IN_TRANSIT, "org-a", "usd")
CLEARING = Account(AccountKind.PROVIDER_CLEARING, "paypal", "usd")
PAYABLE = Account(AccountKind.ORGANIZER_PAYABLE, "org-a", "usd")


def amounts(tx: object) -> dict[Account, int]:
    assert tx is not None
    return {p.account: p.amount for p in tx.postings}  # type: ignore[attr-defined]


def usd(amount: int) -> Money:
    return Money(amount, "usd")


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        (S.CREATED, S.SENT, S.SENT),
        (S.CREATED, S.PAID, S.PAID),
        (S.SENT, S.SENT, None),
        (S.SENT, S.CREATED, None),
        (S.SENT, S.UNCLAIMED, S.UNCLAIMED),
        (S.UNCLAIMED, S.RETURNED, S.RETURNED),
        (S.UNCLAIMED, S.FAILED, None),
        (S.PAID, S.SENT, None),
        (S.PAID, S.RETURNED, S.RETURNED),
        (S.RETURNED, S.PAID, None),
        (S.FAILED, S.PAID, None),
    ],
)
def test_next_status_moves_forward_only(
    current: PayoutStatus, reported: PayoutStatus, expected: PayoutStatus | None
) -> None:
    assert next_status(current, reported) is expected


def test_status_properties() -> None:
    assert [s for s in S if s.is_final] == [S.FAILED, S.RETURNED]
    assert [s for s in S if s.money_out] == [S.CREATED, S.SENT, S.UNCLAIMED, S.PAID]


def test_position_holds_the_reserve_and_pays_the_rest() -> None:
    got = position(payable=usd(10_000), pending=usd(1_000), reserve=usd(3_000), on_hold=False)
    assert (got.held, got.available, got.pending, got.currency) == (
        usd(3_000),
        usd(6_000),
        usd(1_000),
        "usd",
    )


def test_position_never_holds_more_than_is_free() -> None:
    got = position(payable=usd(5_000), pending=usd(4_000), reserve=usd(3_000), on_hold=False)
    assert (got.held, got.available) == (usd(1_000), usd(0))


def test_an_admin_hold_holds_everything_free() -> None:
    got = position(payable=usd(5_000), pending=usd(1_000), reserve=usd(0), on_hold=True)
    assert (got.held, got.available) == (usd(4_000), usd(0))


def test_an_organizer_who_owes_the_platform_has_nothing_held_and_nothing_available() -> None:
    got = position(payable=usd(-700), pending=usd(0), reserve=usd(2_000), on_hold=True)
    assert (got.held, got.available) == (usd(0), usd(-700))


def test_position_is_in_one_currency() -> None:
    with pytest.raises(PayoutError):
        position(payable=usd(1), pending=Money(0, "eur"), reserve=usd(0), on_hold=False)


@given(
    payable=st.integers(-(10**9), 10**9),
    pending=st.integers(0, 10**9),
    reserve=st.integers(-(10**9), 10**9),
    on_hold=st.booleans(),
)
def test_position_parts_add_up(payable: int, pending: int, reserve: int, on_hold: bool) -> None:
    got = position(
        payable=usd(payable), pending=usd(pending), reserve=usd(reserve), on_hold=on_hold
    )
    assert got.pending.amount + got.held.amount + got.available.amount == payable
    assert got.held.amount >= 0
    assert got.available.amount <= max(payable - pending, 0) or payable - pending < 0


def test_sending_moves_money_from_the_provider_into_transit() -> None:
    tx = sent_posting(FACTS)
    assert tx.cause == "payout:po_1:sent"
    assert tx.order_id is None
    assert amounts(tx) == {IN_TRANSIT: 9000, CLEARING: -9000}


def test_a_payout_needs_a_positive_amount() -> None:
    with pytest.raises(PayoutError):
        sent_posting(PayoutFacts("po_2", "org-a", "paypal", usd(0)))


def test_paid_settles_the_debt() -> None:
    tx = posting_for(FACTS, S.SENT, S.PAID)
    assert tx is not None
    assert tx.cause == "payout:po_1:paid"
    assert amounts(tx) == {PAYABLE: 9000, IN_TRANSIT: -9000}


@pytest.mark.parametrize("after", [S.FAILED, S.RETURNED])
def test_money_back_before_it_was_paid_leaves_transit(after: PayoutStatus) -> None:
    tx = posting_for(FACTS, S.UNCLAIMED, after)
    assert tx is not None
    assert tx.cause == f"payout:po_1:{after.value}"
    assert amounts(tx) == {CLEARING: 9000, IN_TRANSIT: -9000}


def test_money_returned_after_it_was_paid_is_owed_again() -> None:
    tx = posting_for(FACTS, S.PAID, S.RETURNED)
    assert amounts(tx) == {CLEARING: 9000, PAYABLE: -9000}


@pytest.mark.parametrize("after", [S.SENT, S.UNCLAIMED])
def test_steps_where_no_money_moves_post_nothing(after: PayoutStatus) -> None:
    assert posting_for(FACTS, S.CREATED, after) is None


def test_every_path_nets_to_zero_in_transit() -> None:
    for path in ([S.PAID], [S.UNCLAIMED, S.RETURNED], [S.PAID, S.RETURNED], [S.FAILED]):
        txs = [sent_posting(FACTS)]
        before = S.SENT
        for after in path:
            tx = posting_for(FACTS, before, after)
            if tx is not None:
                txs.append(tx)
            before = after
        postings = [p for tx in txs for p in tx.postings]
        assert sum(p.amount for p in postings if p.account == IN_TRANSIT) == 0
        assert sums_by_currency(postings) == {"usd": 0}


def test_the_fee_is_an_expense_of_the_platform() -> None:
    tx = fee_posting(FACTS, usd(25))
    expense = Account(AccountKind.PROVIDER_FEE_EXPENSE, "paypal", "usd")
    assert amounts(tx) == {expense: 25, CLEARING: -25}
    assert fee_posting(FACTS, usd(0)) is None
    with pytest.raises(PayoutError):
        fee_posting(FACTS, Money(25, "eur"))


def _postings(*steps: tuple[PayoutStatus, PayoutStatus]) -> list[Posting]:
    txs = [sent_posting(FACTS)]
    for before, after in steps:
        tx = posting_for(FACTS, before, after)
        if tx is not None:
            txs.append(tx)
    return [p for tx in txs for p in tx.postings]


@pytest.mark.parametrize(
    ("status", "steps"),
    [
        (S.SENT, []),
        (S.UNCLAIMED, [(S.SENT, S.UNCLAIMED)]),
        (S.PAID, [(S.SENT, S.PAID)]),
        (S.RETURNED, [(S.SENT, S.PAID), (S.PAID, S.RETURNED)]),
        (S.RETURNED, [(S.SENT, S.UNCLAIMED), (S.UNCLAIMED, S.RETURNED)]),
        (S.FAILED, [(S.CREATED, S.FAILED)]),
    ],
)
def test_the_postings_of_every_path_agree_with_where_the_payout_is(
    status: PayoutStatus, steps: list[tuple[PayoutStatus, PayoutStatus]]
) -> None:
    assert payout_discrepancy(FACTS, status, None, _postings(*steps)) is None


def test_a_missing_step_or_fee_is_named() -> None:
    sent_only = _postings()
    assert "payouts_in_transit:org-a:usd is 9000, expected 0" in str(
        payout_discrepancy(FACTS, S.PAID, None, sent_only)
    )
    paid = _postings((S.SENT, S.PAID))
    fee = fee_posting(FACTS, usd(25))
    assert fee is not None
    assert "provider_clearing:paypal:usd is -9000, expected -9025" in str(
        payout_discrepancy(FACTS, S.PAID, usd(25), paid)
    )
    assert payout_discrepancy(FACTS, S.PAID, usd(25), [*paid, *fee.postings]) is None


def test_a_posting_on_a_foreign_account_is_named() -> None:
    stray = Posting(Account(AccountKind.PLATFORM_FEE_REVENUE, "platform", "usd"), 1)
    found = payout_discrepancy(FACTS, S.SENT, None, [*_postings(), stray])
    assert found == "payout po_1: a posting on platform_fee_revenue:platform:usd"
