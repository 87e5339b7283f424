"""Fee policy rounding and the order quote: who gets what, and that it always adds up."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    CurrencyMismatch,
    FeePayer,
    FeePolicy,
    InvalidAmount,
    Money,
    PricingError,
    Quote,
    QuoteLine,
    Rounding,
    UnknownCurrency,
    price_registration,
    quote_order,
)

from .builders import AFTER_EARLY_BIRD, make_class, make_event, usd

STRIPE_LIKE = FeePolicy(percent=Decimal("2.9"), fixed_minor=30)


def line(amount: int, currency: str = "usd", kind: str = "registration") -> QuoteLine:
    return QuoteLine(kind=kind, description=f"item {amount}", amount=Money(amount, currency))


@pytest.mark.parametrize(
    ("rounding", "fee"),
    [
        # 4500 x 2.9 % = 130.5, plus 30
        (Rounding.HALF_UP, 161),
        (Rounding.HALF_EVEN, 160),
        (Rounding.DOWN, 160),
        (Rounding.UP, 161),
    ],
)
def test_fee_worked_example_per_rounding_rule(rounding: Rounding, fee: int) -> None:
    policy = FeePolicy(percent=Decimal("2.9"), fixed_minor=30, rounding=rounding)
    assert policy.fee_for(usd(4500)) == usd(fee)


def test_fee_defaults_to_half_up_paid_by_the_organizer() -> None:
    assert STRIPE_LIKE.rounding is Rounding.HALF_UP
    assert STRIPE_LIKE.payer is FeePayer.ORGANIZER


@pytest.mark.parametrize(
    ("policy", "subtotal", "fee"),
    [
        (FeePolicy(percent=Decimal("3.6"), fixed_minor=0), Money(1000, "jpy"), Money(36, "jpy")),
        (FeePolicy(percent=Decimal("5"), fixed_minor=100), usd(50), usd(50)),  # capped
        (FeePolicy(percent=Decimal("100"), fixed_minor=0), usd(999), usd(999)),
        (FeePolicy(percent=Decimal("0"), fixed_minor=0), usd(999), usd(0)),
        (STRIPE_LIKE, usd(0), usd(0)),  # no fixed part on nothing
        (STRIPE_LIKE, Money(10000, "kwd"), Money(320, "kwd")),
    ],
)
def test_fee_examples(policy: FeePolicy, subtotal: Money, fee: Money) -> None:
    assert policy.fee_for(subtotal) == fee


def test_fee_percent_is_scaled_exactly_even_beyond_default_precision() -> None:
    # 2e30 x 50.00...01 % (31 significant digits) = 1e30 + 0.2: rounding up must see the 0.2.
    percent = Decimal("50.00000000000000000000000000001")
    subtotal = usd(2 * 10**30)
    assert FeePolicy(percent, 0, Rounding.UP).fee_for(subtotal) == usd(10**30 + 1)
    assert FeePolicy(percent, 0, Rounding.HALF_UP).fee_for(subtotal) == usd(10**30)


def test_fee_on_a_negative_subtotal_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        STRIPE_LIKE.fee_for(usd(-1))


@pytest.mark.parametrize(
    ("percent", "fixed"),
    [
        (2.9, 30),
        (3, 30),
        (Decimal("NaN"), 30),
        (Decimal("-0.1"), 30),
        (Decimal("100.01"), 30),
        (Decimal("2.9"), -1),
        (Decimal("2.9"), 1.5),
        (Decimal("2.9"), True),
    ],
)
def test_fee_policy_validation(percent: object, fixed: object) -> None:
    with pytest.raises(InvalidAmount):
        FeePolicy(percent=percent, fixed_minor=fixed)  # type: ignore[arg-type]


def test_fee_policy_accepts_stored_string_values_and_refuses_unknown_ones() -> None:
    policy = FeePolicy(Decimal("1"), 0, "half_even", "buyer")  # type: ignore[arg-type]
    assert policy.rounding is Rounding.HALF_EVEN
    assert policy.payer is FeePayer.BUYER
    with pytest.raises(ValueError, match="ceiling"):
        FeePolicy(Decimal("1"), 0, "ceiling")  # type: ignore[arg-type]


def test_organizer_pays_the_fee_out_of_the_payout() -> None:
    quote = quote_order(currency="USD", lines=[line(4000), line(1500)], fee_policy=STRIPE_LIKE)
    # 5500 x 2.9 % = 159.5 -> 160, plus 30
    assert quote == Quote(
        currency="usd",
        lines=(line(4000), line(1500)),
        subtotal=usd(5500),
        discount=usd(0),
        fees=usd(0),
        tax=usd(0),
        total=usd(5500),
        platform_fee=usd(190),
        organizer_net=usd(5310),
    )


def test_buyer_pays_the_fee_as_a_line() -> None:
    policy = dataclasses.replace(STRIPE_LIKE, payer=FeePayer.BUYER)
    quote = quote_order(currency="usd", lines=[line(4000), line(1500)], fee_policy=policy)
    assert quote.lines[:2] == (line(4000), line(1500))
    assert quote.lines[2] == QuoteLine(kind="fee", description="Service fee", amount=usd(190))
    assert (quote.subtotal, quote.fees, quote.total) == (usd(5500), usd(190), usd(5690))
    assert (quote.platform_fee, quote.organizer_net) == (usd(190), usd(5500))


def test_buyer_policy_with_no_fee_adds_no_line() -> None:
    policy = FeePolicy(Decimal("0"), 0, payer=FeePayer.BUYER)
    quote = quote_order(currency="usd", lines=[line(4000)], fee_policy=policy)
    assert quote.lines == (line(4000),)
    assert quote.total == usd(4000)


def test_free_registration_quotes_zero_everything() -> None:
    quote = quote_order(currency="usd", lines=[line(0)], fee_policy=STRIPE_LIKE)
    assert quote.total == quote.platform_fee == quote.organizer_net == usd(0)


def test_registration_lines_flow_into_a_quote() -> None:
    event = make_event(
        make_class("spl", member=4000, non_member=5000),
        make_class("sq", member=3000, non_member=3500, additional=1500),
    )
    lines = price_registration(
        event=event, class_ids=["sq", "spl"], is_member=True, now=AFTER_EARLY_BIRD
    )
    quote = quote_order(currency=event.currency, lines=lines, fee_policy=STRIPE_LIKE)
    assert quote.subtotal == usd(5500)
    assert quote.organizer_net == usd(5310)


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        ([], PricingError, "at least one line"),
        ([line(100), line(100, "eur")], CurrencyMismatch, "eur"),
        ([line(100), line(5, kind="fee")], PricingError, "fee lines"),
        ([line(100), line(-5)], PricingError, "negative"),
    ],
)
def test_quote_order_refusals(lines: list[QuoteLine], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        quote_order(currency="usd", lines=lines, fee_policy=STRIPE_LIKE)


def test_quote_order_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        quote_order(currency="xyz", lines=[line(100)], fee_policy=STRIPE_LIKE)


VALID_QUOTE = quote_order(currency="usd", lines=[line(5500)], fee_policy=STRIPE_LIKE)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"total": usd(5501)}, PricingError, "subtotal - discount"),
        ({"organizer_net": usd(5311)}, PricingError, "organizer_net"),
        (
            {"subtotal": usd(-1), "total": usd(-1), "organizer_net": usd(-191)},
            PricingError,
            "negative",
        ),
        ({"tax": Money(0, "eur")}, CurrencyMismatch, "eur"),
        ({"lines": (line(5500, "eur"),)}, CurrencyMismatch, "eur"),
    ],
)
def test_a_quote_that_does_not_add_up_cannot_be_built(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        dataclasses.replace(VALID_QUOTE, **changes)  # type: ignore[arg-type]


POLICIES = st.builds(
    FeePolicy,
    percent=st.decimals(min_value=0, max_value=100, places=3),
    fixed_minor=st.integers(min_value=0, max_value=2_000),
    rounding=st.sampled_from(Rounding),
    payer=st.sampled_from(FeePayer),
)
LINE_AMOUNTS = st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8)


@given(amounts=LINE_AMOUNTS, policy=POLICIES, currency=st.sampled_from(["usd", "jpy", "kwd"]))
def test_quote_invariants(amounts: list[int], policy: FeePolicy, currency: str) -> None:
    lines = [line(amount, currency) for amount in amounts]
    quote = quote_order(currency=currency, lines=lines, fee_policy=policy)
    zero = Money.zero(currency)

    assert quote.total == quote.organizer_net + quote.platform_fee + quote.tax
    assert quote.total == quote.subtotal - quote.discount + quote.fees + quote.tax
    for amount in (quote.subtotal, quote.fees, quote.total, quote.platform_fee):
        assert amount >= zero
    assert quote.organizer_net >= zero
    assert quote.subtotal == Money(sum(amounts), currency)
    assert sum(item.amount.amount for item in quote.lines) == quote.total.amount
    assert quote.platform_fee == policy.fee_for(quote.subtotal)
    assert quote.platform_fee <= quote.subtotal
    if policy.payer is FeePayer.ORGANIZER:
        assert quote.fees == zero
        assert quote.total == quote.subtotal
    else:
        assert quote.fees == quote.platform_fee
        assert quote.organizer_net == quote.subtotal


@given(
    a=st.integers(min_value=0, max_value=10**8),
    b=st.integers(min_value=0, max_value=10**8),
    policy=POLICIES,
)
def test_fee_never_decreases_as_the_subtotal_grows(a: int, b: int, policy: FeePolicy) -> None:
    low, high = sorted((a, b))
    assert policy.fee_for(usd(low)) <= policy.fee_for(usd(high))
