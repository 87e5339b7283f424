"""Money values: construction, currencies, conversion to and from major units, arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpay.domain import (
    CURRENCY_EXPONENTS,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    UnknownCurrency,
    sum_money,
)

CURRENCIES = st.sampled_from(sorted(CURRENCY_EXPONENTS))
AMOUNTS = st.integers(min_value=-(10**15), max_value=10**15)


def test_required_currencies_have_their_iso_exponents() -> None:
    by_exponent = {
        2: ("usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "mxn", "brl",
            "inr", "sgd", "hkd", "pln", "czk"),
        0: ("jpy", "krw", "vnd", "clp", "isk", "ugx"),
        3: ("kwd", "bhd", "jod", "omr", "tnd", "iqd", "lyd"),
    }  # fmt: skip
    expected = {code: exponent for exponent, codes in by_exponent.items() for code in codes}
    for code, exponent in expected.items():
        assert CURRENCY_EXPONENTS[code] == exponent, code
    assert all(code == code.lower() and len(code) == 3 for code in CURRENCY_EXPONENTS)


def test_currency_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        CURRENCY_EXPONENTS["xxx"] = 2  # type: ignore[index]


def test_uppercase_currency_is_normalised() -> None:
    assert Money(4500, "USD") == Money(4500, "usd")
    assert Money(4500, "USD").currency == "usd"


@pytest.mark.parametrize("currency", ["xyz", "", "US", None, 840])
def test_unknown_currency_is_refused(currency: object) -> None:
    with pytest.raises(UnknownCurrency):
        Money(100, currency)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [12.5, 12.0, True, Decimal("12"), "1250", None])
def test_amount_must_be_an_int(amount: object) -> None:
    with pytest.raises(InvalidAmount, match="must be an int"):
        Money(amount, "usd")  # type: ignore[arg-type]


def test_negative_amounts_are_allowed_for_credits() -> None:
    credit = Money(-500, "usd")
    assert credit.is_negative()
    assert not credit.is_positive()
    assert not credit.is_zero()
    assert abs(credit) == Money(500, "usd")


def test_money_is_immutable_and_hashable() -> None:
    price = Money(4500, "usd")
    with pytest.raises(AttributeError):
        price.amount = 1  # type: ignore[misc]
    assert len({price, Money(4500, "USD"), Money(4500, "eur")}) == 2


def test_zero() -> None:
    assert Money.zero("JPY") == Money(0, "jpy")
    assert Money.zero("jpy").is_zero()


@pytest.mark.parametrize(
    ("value", "currency", "amount"),
    [
        ("12.50", "usd", 1250),
        ("12.5", "usd", 1250),
        ("12.500", "usd", 1250),
        ("-0.01", "usd", -1),
        (" 7 ", "usd", 700),
        (Decimal("45"), "usd", 4500),
        (45, "usd", 4500),
        ("1E+3", "usd", 100000),
        ("1000", "jpy", 1000),
        ("1.005", "kwd", 1005),
        ("0.000", "usd", 0),
        ("-0", "usd", 0),
        ("0E-999999999", "usd", 0),
    ],
)
def test_from_decimal_is_exact(value: Decimal | str | int, currency: str, amount: int) -> None:
    assert Money.from_decimal(value, currency) == Money(amount, currency)


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        ("12.505", "usd", "whole number"),
        ("0.5", "jpy", "whole number"),
        ("1.0005", "kwd", "whole number"),
        ("1E-999999999", "usd", "whole number"),
        ("1E+999999999", "usd", "too large"),
        (12.5, "usd", "got float"),
        (True, "usd", "got bool"),
        (None, "usd", "got NoneType"),
        ("twelve", "usd", "not a decimal"),
        ("NaN", "usd", "finite"),
        (Decimal("Infinity"), "usd", "finite"),
    ],
)
def test_from_decimal_refuses_inexact_or_non_decimal_values(
    value: object, currency: str, message: str
) -> None:
    with pytest.raises(InvalidAmount, match=message):
        Money.from_decimal(value, currency)  # type: ignore[arg-type]


def test_from_decimal_checks_the_currency() -> None:
    with pytest.raises(UnknownCurrency):
        Money.from_decimal("1.00", "xyz")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250, "usd"), "12.50"),
        (Money(5, "usd"), "0.05"),
        (Money(-5, "usd"), "-0.05"),
        (Money(0, "usd"), "0.00"),
        (Money(1000, "jpy"), "1000"),
        (Money(1005, "kwd"), "1.005"),
        (Money(10**20, "usd"), "1000000000000000000.00"),
    ],
)
def test_to_decimal_string_has_exactly_the_currency_exponent(money: Money, text: str) -> None:
    assert money.to_decimal_string() == text
    assert money.to_decimal() == Decimal(text)


def test_str_shows_major_units_and_uppercase_code() -> None:
    assert str(Money(4500, "usd")) == "45.00 USD"
    assert str(Money(1000, "jpy")) == "1000 JPY"


@given(amount=AMOUNTS, currency=CURRENCIES)
def test_decimal_round_trip(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    text = money.to_decimal_string()
    assert Money.from_decimal(text, currency) == money
    assert Money.from_decimal(money.to_decimal(), currency) == money
    fraction = text.partition(".")[2]
    assert len(fraction) == money.exponent


def test_addition_and_subtraction() -> None:
    assert Money(100, "usd") + Money(250, "usd") == Money(350, "usd")
    assert Money(100, "usd") - Money(250, "usd") == Money(-150, "usd")
    assert -Money(100, "usd") == Money(-100, "usd")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixed_currencies_are_refused(operation: object) -> None:
    with pytest.raises(CurrencyMismatch):
        operation(Money(100, "usd"), Money(100, "eur"))  # type: ignore[operator]


def test_equality_across_currencies_is_false_not_an_error() -> None:
    assert Money(100, "usd") != Money(100, "eur")


@pytest.mark.parametrize(
    "operation",
    [
        lambda m: m + 1,
        lambda m: 1 + m,
        lambda m: m - 1,
        lambda m: m < 1,
        lambda m: m <= 1,
        lambda m: m > 1,
        lambda m: m >= 1,
        lambda m: m * 1.5,
        lambda m: m * Decimal("2"),
        lambda m: m * True,
        lambda m: 1.5 * m,
    ],
)
def test_operations_with_non_money_or_non_int_are_type_errors(operation: object) -> None:
    with pytest.raises(TypeError):
        operation(Money(100, "usd"))  # type: ignore[operator]


def test_multiplication_by_an_int_either_side() -> None:
    assert Money(150, "usd") * 3 == Money(450, "usd")
    assert 3 * Money(150, "usd") == Money(450, "usd")
    assert Money(150, "usd") * -1 == Money(-150, "usd")


def test_ordering_within_a_currency() -> None:
    small, large = Money(100, "usd"), Money(200, "usd")
    assert small < large
    assert small <= large
    assert small <= Money(100, "usd")
    assert large > small
    assert large >= small
    assert not large < small
    assert max(small, large) is large


@given(a=AMOUNTS, b=AMOUNTS, c=AMOUNTS, currency=CURRENCIES)
def test_addition_is_associative_commutative_and_subtraction_undoes_it(
    a: int, b: int, c: int, currency: str
) -> None:
    x, y, z = (Money(v, currency) for v in (a, b, c))
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert x + y - y == x
    assert x + -x == Money.zero(currency)


@given(amounts=st.lists(AMOUNTS, max_size=20), currency=CURRENCIES)
@settings(deadline=None)
def test_sum_money_matches_integer_sum(amounts: list[int], currency: str) -> None:
    total = sum_money((Money(a, currency) for a in amounts), currency.upper())
    assert total == Money(sum(amounts), currency)


def test_sum_money_refuses_mixed_currencies() -> None:
    with pytest.raises(CurrencyMismatch):
        sum_money([Money(1, "usd"), Money(1, "eur")], "usd")
