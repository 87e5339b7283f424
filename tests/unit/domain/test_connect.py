"""Stripe Connect rules: destination or separate charge, transfers and their reversals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import AccountKind, Money, order_position
from eventpay.domain.connect import (
    ConnectError,
    DestinationCharge,
    destination_for,
    net_moved,
    organizers_of,
    reversal_for,
    separate_charge,
    transfer_posting,
    transfers_for,
)
from eventpay.domain.ledger import OrderShares, order_shares_given


def shares(by: dict[str, tuple[int, int]]) -> OrderShares:
    total = sum(g for g, _ in by.values())
    fee = sum(f for _, f in by.values())
    return order_shares_given(
        total=Money(total, "usd"), platform_fee=Money(fee, "usd"), by_organizer=by
    )


ONE = shares({"org-a": (10_000, 550)})
TWO = shares({"org-a": (6_000, 350), "org-b": (4_000, 250)})


def test_a_whole_single_organizer_payment_is_a_destination_charge_keeping_their_fee() -> None:
    charge = destination_for(ONE, amount=10_000, net_paid=0, enabled={"org-a": "acct_a"})
    assert charge == DestinationCharge("org-a", "acct_a", 550)


@pytest.mark.parametrize(
    ("amount", "net_paid", "enabled"),
    [
        (10_000, 0, {}),  # no charge-enabled account
        (10_000, 0, {"org-b": "acct_b"}),  # someone else's account
        (4_000, 0, {"org-a": "acct_a"}),  # a part payment: its fee would be a guess
        (10_000, 6_000, {"org-a": "acct_a"}),  # money already held
    ],
)
def test_otherwise_an_ordinary_charge(amount: int, net_paid: int, enabled: dict[str, str]) -> None:
    assert destination_for(ONE, amount=amount, net_paid=net_paid, enabled=enabled) is None


def test_an_order_of_several_organizers_is_never_a_destination_charge() -> None:
    enabled = {"org-a": "acct_a", "org-b": "acct_b"}
    assert destination_for(TWO, amount=10_000, net_paid=0, enabled=enabled) is None
    assert separate_charge(TWO, enabled)
    assert separate_charge(TWO, {"org-b": "acct_b"})
    assert not separate_charge(TWO, {})
    assert not separate_charge(ONE, {"org-a": "acct_a"})


def test_a_free_order_and_the_platform_own_share_belong_to_nobody() -> None:
    free = shares({"org-a": (0, 0)})
    assert organizers_of(free) == []
    assert destination_for(free, amount=0, net_paid=0, enabled={"org-a": "acct_a"}) is None
    platform = shares({"": (500, 0), "org-a": (1_000, 60)})
    assert organizers_of(platform) == ["org-a"]


def test_the_transfer_of_a_full_payment_is_the_organizer_net() -> None:
    assert net_moved(ONE, "org-a", net_before=0, net_after=10_000) == 10_000 - 550
    assert transfers_for(TWO, ["org-b", "org-a"], net_before=0, net_after=10_000) == {
        "org-a": 6_000 - 350,
        "org-b": 4_000 - 250,
    }


def test_only_money_within_the_total_is_transferred() -> None:
    # An over-payment is owed back to the buyer, not to the organizer.
    assert transfers_for(ONE, ["org-a"], net_before=10_000, net_after=20_000) == {}
    assert net_moved(ONE, "org-a", net_before=10_000, net_after=20_000) == 0


def test_an_unknown_organizer_is_refused() -> None:
    with pytest.raises(ConnectError, match="no share"):
        net_moved(ONE, "org-z", net_before=0, net_after=1)


def test_a_refund_reverses_the_organizer_share_capped_by_what_is_left() -> None:
    assert reversal_for(ONE, "org-a", net_before=10_000, net_after=5_000, left=9_450) == 4_725
    assert reversal_for(ONE, "org-a", net_before=10_000, net_after=0, left=100) == 100
    # A refund of an over-payment takes nothing from the organizer.
    assert reversal_for(ONE, "org-a", net_before=20_000, net_after=10_000, left=9_450) == 0


def test_a_transfer_posts_payable_against_clearing_without_an_order() -> None:
    sent = transfer_posting(
        cause="payment:p:transfer",
        kind="connect_transfer",
        organizer_id="org-a",
        provider="stripe",
        currency="usd",
        amount=9_450,
    )
    assert sent is not None
    assert sent.order_id is None
    assert {(p.account.kind, p.amount) for p in sent.postings} == {
        (AccountKind.ORGANIZER_PAYABLE, 9_450),
        (AccountKind.PROVIDER_CLEARING, -9_450),
    }
    nothing = transfer_posting(
        cause="x", kind="k", organizer_id="org-a", provider="stripe", currency="usd", amount=0
    )
    assert nothing is None


@given(
    gross=st.integers(1, 50_000),
    fee_pct=st.integers(0, 30),
    steps=st.lists(st.integers(-30_000, 30_000), max_size=8),
)
def test_transfers_less_reversals_always_equal_the_payable_of_what_is_held(
    gross: int, fee_pct: int, steps: list[int]
) -> None:
    # One organizer (a destination charge): their position only grows with the money held.
    order = shares({"org-a": (gross, gross * fee_pct // 100)})
    sent, net = 0, 0
    for step in steps:
        after = max(net + step, 0)
        if after >= net:
            sent += transfers_for(order, ["org-a"], net_before=net, net_after=after).get("org-a", 0)
        else:
            sent -= reversal_for(order, "org-a", net_before=net, net_after=after, left=sent)
        net = after
        assert sent == order_position(order, net).payable["org-a"]


@given(gross=st.lists(st.integers(0, 50_000), min_size=2, max_size=4), fee_pct=st.integers(0, 30))
def test_a_whole_payment_transfers_each_organizer_exactly_their_net(
    gross: list[int], fee_pct: int
) -> None:
    by = {f"org-{i}": (g, g * fee_pct // 100) for i, g in enumerate(gross)}
    order = shares(by)
    moved = transfers_for(order, by, net_before=0, net_after=order.total)
    assert moved == {o: g - f for o, (g, f) in by.items() if g - f > 0}
