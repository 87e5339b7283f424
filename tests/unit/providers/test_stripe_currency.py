"""Stripe's units at the adapter boundary: one table, exact both ways, refusals in words.

Facts from Stripe's currencies page: JPY is zero-decimal; ISK and UGX are effectively
zero-decimal but written with two decimals that are always 00; three-decimal currencies (KWD,
BHD, JOD, OMR, TND) must end in 0; at most eight digits in Stripe's unit; IQD and LYD are not
Stripe currencies. The old adapter sent `Money.amount` as it was (5 ISK as 5, i.e. 0.05 ISK).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import CURRENCY_EXPONENTS, Money
from eventpay.providers.stripe import StripeProvider, stripe_client
from eventpay.providers.stripe_currency import (
    STRIPE_UNITS,
    StripeUnitsError,
    from_stripe,
    refusal,
    to_stripe,
)


@pytest.mark.parametrize(
    ("money", "at_stripe"),
    [
        (Money(4500, "jpy"), 4500),  # ¥4500: zero-decimal, as ISO
        (Money(5, "isk"), 500),  # 5 ISK: two decimals that are always 00
        (Money(7, "ugx"), 700),
        (Money(1230, "kwd"), 1230),  # 1.230 KWD: thousandths, as ISO
        (Money(4550, "eur"), 4550),  # €45.50
        (Money(1999, "huf"), 1999),  # two-decimal for charges (zero-decimal for payouts only)
        (Money(1999, "twd"), 1999),
    ],
)
def test_amounts_cross_both_ways(money: Money, at_stripe: int) -> None:
    assert to_stripe(money) == at_stripe
    assert from_stripe(at_stripe, money.currency) == money
    assert from_stripe(at_stripe, money.currency.upper()) == money


@pytest.mark.parametrize(
    ("money", "words"),
    [
        (Money(1235, "kwd"), "Stripe takes KWD amounts only in steps of 0.010 KWD."),
        (Money(15, "bhd"), "Stripe takes BHD amounts only in steps of 0.010 BHD."),
        (Money(1000, "iqd"), "Card payments through Stripe are not available in IQD."),
        (Money(1000, "lyd"), "Card payments through Stripe are not available in LYD."),
        (Money(1_000_000, "isk"), "Stripe takes at most 999999 ISK in one payment."),
        (Money(100_000_000, "eur"), "Stripe takes at most 999999.99 EUR in one payment."),
    ],
)
def test_what_stripe_cannot_take_is_refused_in_words(money: Money, words: str) -> None:
    assert refusal(money) == words
    with pytest.raises(StripeUnitsError):
        to_stripe(money)


@pytest.mark.parametrize(
    "money", [Money(1230, "kwd"), Money(999_999, "isk"), Money(99_999_999, "jpy"), Money(1, "eur")]
)
def test_what_stripe_takes_is_not_refused(money: Money) -> None:
    assert refusal(money) is None
    provider = StripeProvider(
        stripe_client(secret_key="sk_test_x", api_base="http://127.0.0.1:9", timeout_s=1)
    )
    assert provider.refusal_for(money) is None


def test_every_currency_of_ours_is_in_the_table_or_refused() -> None:
    for code in CURRENCY_EXPONENTS:
        assert (code in STRIPE_UNITS) != (code in ("iqd", "lyd")), code


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (550, "isk"),  # half a krona: not a whole ISK
        (10, "xxx"),  # not a currency
        (10, "iqd"),  # ours, but not Stripe's
        ("10", "eur"),
        (True, "eur"),
        (None, "eur"),
        (10, None),
    ],
)
def test_unreadable_stripe_amounts_are_errors(amount: object, currency: object) -> None:
    with pytest.raises(StripeUnitsError):
        from_stripe(amount, currency)


@given(
    currency=st.sampled_from(sorted(STRIPE_UNITS)),
    amount=st.integers(min_value=1, max_value=10**9),
)
def test_whatever_is_not_refused_round_trips(currency: str, amount: int) -> None:
    money = Money(amount, currency)
    if refusal(money) is None:
        sent = to_stripe(money)
        assert 0 < sent <= 99_999_999
        assert from_stripe(sent, currency) == money
