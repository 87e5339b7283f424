"""Money at PayPal's boundary: decimal strings with the currency's exponent, never floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import CURRENCY_EXPONENTS, Money
from eventpay.providers.paypal_money import (
    UnsupportedAmount,
    from_paypal,
    to_payouts,
    to_paypal,
    value_string,
)


@pytest.mark.parametrize(
    ("money", "value"),
    [
        (Money(1250, "usd"), "12.50"),
        (Money(5, "usd"), "0.05"),
        (Money(1000, "jpy"), "1000"),
        (Money(1005, "kwd"), "1.005"),
        (Money(12000, "huf"), "120"),
        (Money(0, "usd"), "0.00"),
    ],
)
def test_value_strings_follow_the_currency_exponent(money: Money, value: str) -> None:
    assert value_string(money) == value
    assert to_paypal(money) == {"currency_code": money.currency.upper(), "value": value}
    assert to_payouts(money) == {"currency": money.currency.upper(), "value": value}


@pytest.mark.parametrize("currency", ["huf", "twd"])
def test_paypal_refuses_cents_of_forints_and_taiwan_dollars(currency: str) -> None:
    with pytest.raises(UnsupportedAmount) as refused:
        to_paypal(Money(12345, currency))
    assert refused.value.code == "unsupported_amount"


@pytest.mark.parametrize(
    ("amount", "money"),
    [
        ({"currency_code": "USD", "value": "12.50"}, Money(1250, "usd")),
        ({"currency_code": "USD", "value": "12.5"}, Money(1250, "usd")),
        ({"currency_code": "JPY", "value": "1000"}, Money(1000, "jpy")),
        ({"currency_code": "KWD", "value": "1.005"}, Money(1005, "kwd")),
        ({"currency": "EUR", "value": "9.87"}, Money(987, "eur")),
    ],
)
def test_paypal_amounts_are_read_exactly(amount: dict[str, str], money: Money) -> None:
    assert from_paypal(amount) == money


@pytest.mark.parametrize(
    "amount",
    [
        {"currency_code": "USD", "value": "12.505"},  # not a whole number of cents
        {"currency_code": "JPY", "value": "10.5"},
        {"currency_code": "XXX", "value": "1.00"},  # unknown currency
        {"currency_code": "USD", "value": 12.5},  # a float, not PayPal's string
        {"currency_code": "USD"},
        {"value": "1.00"},
    ],
)
def test_unusable_amounts_are_refused(amount: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the adapter turns any of them into "unknown"
        from_paypal(amount)


currencies = st.sampled_from(sorted(set(CURRENCY_EXPONENTS) - {"huf", "twd"}))


@given(amount=st.integers(min_value=-(10**15), max_value=10**15), currency=currencies)
def test_round_trip_is_exact(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert from_paypal(to_paypal(money)) == money
    assert from_paypal(to_payouts(money)) == money
