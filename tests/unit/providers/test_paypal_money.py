"""Money at PayPal's boundary: one table of what PayPal takes, exact both ways, never floats.

Facts from PayPal's currency-codes page: HUF, JPY and TWD take no decimals; three-decimal
currencies (KWD...) and ISK are not PayPal currencies at all. The old code sent KWD as
"1.005" and ISK as it was, for PayPal to refuse at payment time (or worse).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import CURRENCY_EXPONENTS, Money
from eventpay.providers.paypal_money import (
    PAYPAL_DECIMALS,
    UnsupportedAmount,
    from_paypal,
    refusal,
    to_payouts,
    to_paypal,
    value_string,
)


@pytest.mark.parametrize(
    ("money", "value"),
    [
        (Money(1250, "usd"), "12.50"),
        (Money(1205, "eur"), "12.05"),
        (Money(5, "eur"), "0.05"),
        (Money(1000, "jpy"), "1000"),
        (Money(12000, "huf"), "120"),
        (Money(-12000, "twd"), "-120"),
        (Money(0, "usd"), "0.00"),
    ],
)
def test_value_strings_take_the_decimals_paypal_accepts(money: Money, value: str) -> None:
    assert value_string(money) == value
    assert to_paypal(money) == {"currency_code": money.currency.upper(), "value": value}
    assert to_payouts(money) == {"currency": money.currency.upper(), "value": value}
    assert from_paypal(to_paypal(money)) == money


def test_the_table_follows_paypals_currency_page() -> None:
    assert PAYPAL_DECIMALS["eur"] == PAYPAL_DECIMALS["usd"] == 2
    assert PAYPAL_DECIMALS["jpy"] == PAYPAL_DECIMALS["huf"] == PAYPAL_DECIMALS["twd"] == 0
    three_decimals = {code for code, digits in CURRENCY_EXPONENTS.items() if digits == 3}
    assert three_decimals & set(PAYPAL_DECIMALS) == set()
    for code in ("isk", "kwd", "krw", "inr", "zar", "try", "aed"):
        assert code not in PAYPAL_DECIMALS


@pytest.mark.parametrize(
    ("money", "why"),
    [
        (Money(1005, "kwd"), "PayPal does not take payments in KWD."),
        (Money(500, "isk"), "PayPal does not take payments in ISK."),
        (Money(12345, "huf"), "PayPal takes only whole HUF amounts, not 123.45 HUF."),
        (Money(12301, "twd"), "PayPal takes only whole TWD amounts, not 123.01 TWD."),
        (Money(1000, "jpy"), None),
        (Money(1205, "eur"), None),
        (Money(12300, "huf"), None),
    ],
)
def test_refusal_says_why_in_plain_words(money: Money, why: str | None) -> None:
    assert refusal(money) == why
    if why is not None:
        with pytest.raises(UnsupportedAmount) as refused:
            to_paypal(money)
        assert (refused.value.code, refused.value.message) == ("unsupported_amount", why)


@pytest.mark.parametrize(
    ("amount", "money"),
    [
        ({"currency_code": "USD", "value": "12.50"}, Money(1250, "usd")),
        ({"currency_code": "USD", "value": "12.5"}, Money(1250, "usd")),
        ({"currency_code": "JPY", "value": "1000"}, Money(1000, "jpy")),
        ({"currency_code": "HUF", "value": "120"}, Money(12000, "huf")),
        ({"currency_code": "KWD", "value": "1.005"}, Money(1005, "kwd")),  # read exactly anyway
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


@given(
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(sorted(PAYPAL_DECIMALS)),
)
def test_round_trip_is_exact_for_what_paypal_takes(amount: int, currency: str) -> None:
    money = Money(
        amount * 10 ** (CURRENCY_EXPONENTS[currency] - PAYPAL_DECIMALS[currency]), currency
    )
    assert from_paypal(to_paypal(money)) == money
    assert from_paypal(to_payouts(money)) == money
