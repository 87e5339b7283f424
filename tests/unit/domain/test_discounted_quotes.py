"""Quotes with discounted lines, and the places' small rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import CurrencyMismatch, FeePayer, FeePolicy, Money, PricingError
from eventpay.domain.places import PlaceClaim, PlaceStatus, can_move, class_stock_id
from eventpay.domain.pricing import QuoteLine, quote_order, with_discounts

POLICY = FeePolicy(percent=Decimal("5"), fixed_minor=50, payer=FeePayer.BUYER)


def line(amount: int, event: str = "e1") -> QuoteLine:
    return QuoteLine(
        kind="registration",
        description=f"{event} {amount}",
        amount=Money(amount, "usd"),
        event_id=event,
    )


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=500_000), min_size=1, max_size=6),
    cut=st.lists(st.integers(min_value=0, max_value=100), min_size=6, max_size=6),
)
def test_a_discounted_quote_adds_up_and_charges_the_fee_on_what_is_paid(
    amounts: list[int], cut: list[int]
) -> None:
    lines = [line(a, f"e{i % 2}") for i, a in enumerate(amounts)]
    discounts = [Money(a * c // 100, "usd") for a, c in zip(amounts, cut, strict=False)]
    quote = quote_order(currency="usd", lines=with_discounts(lines, discounts), fee_policy=POLICY)
    assert quote.discount.amount == sum(d.amount for d in discounts)
    assert quote.total == quote.subtotal - quote.discount + quote.fees + quote.tax
    assert quote.total == quote.organizer_net + quote.platform_fee + quote.tax
    by_event: dict[str, int] = {}
    for source, d in zip(lines, discounts, strict=True):
        assert source.event_id is not None
        by_event[source.event_id] = (
            by_event.get(source.event_id, 0) + source.amount.amount - d.amount
        )
    expected = sum(POLICY.fee_for(Money(net, "usd")).amount for net in by_event.values())
    assert quote.platform_fee.amount == expected


def test_with_discounts_adds_to_a_discount_already_there_and_leaves_zero_alone() -> None:
    once = with_discounts([line(1000), line(500)], [Money(100, "usd"), Money(0, "usd")])
    assert once[1].discount is None
    assert once[1].net == Money(500, "usd")
    twice = with_discounts(once, [Money(50, "usd"), Money(0, "usd")])
    assert twice[0].discount == Money(150, "usd")
    assert twice[0].net == Money(850, "usd")
    with pytest.raises(PricingError):
        with_discounts(once, [Money(1, "usd")])


@pytest.mark.parametrize(
    ("discount", "error"),
    [
        (Money(1001, "usd"), PricingError),
        (Money(-1, "usd"), PricingError),
        (Money(1, "eur"), CurrencyMismatch),
    ],
)
def test_a_discount_outside_its_line_is_refused(discount: Money, error: type[Exception]) -> None:
    bad = QuoteLine(
        kind="registration",
        description="x",
        amount=Money(1000, "usd"),
        event_id="e",
        discount=discount,
    )
    with pytest.raises(error):
        quote_order(currency="usd", lines=[bad], fee_policy=POLICY)


def test_places_move_held_to_confirmed_to_released_and_never_back() -> None:
    assert can_move(PlaceStatus.HELD, PlaceStatus.CONFIRMED)
    assert can_move(PlaceStatus.HELD, PlaceStatus.RELEASED)
    assert can_move(PlaceStatus.CONFIRMED, PlaceStatus.RELEASED)
    assert not can_move(PlaceStatus.CONFIRMED, PlaceStatus.HELD)
    assert not any(can_move(PlaceStatus.RELEASED, target) for target in PlaceStatus)
    assert class_stock_id("spring-spl") == "class:spring-spl"


def test_a_claim_needs_a_place() -> None:
    assert PlaceClaim("class:x").quantity == 1
    with pytest.raises(ValueError, match="at least one place"):
        PlaceClaim("class:x", 0)


@pytest.mark.parametrize("capacity", [-1, 1_000_001])
def test_a_class_capacity_is_between_zero_and_a_million(capacity: int) -> None:
    from eventpay.domain import CompetitionClass

    with pytest.raises(ValueError, match="capacity"):
        CompetitionClass(
            id="c",
            code="SPL",
            name="SPL",
            member_price=Money(100, "usd"),
            non_member_price=Money(100, "usd"),
            capacity=capacity,
        )
