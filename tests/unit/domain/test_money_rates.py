"""Applying a rate with a named rounding rule, and allocating money into exact shares."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import InvalidAmount, Money, Rounding

AMOUNTS = st.integers(min_value=-(10**12), max_value=10**12)
RATIOS = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(any)


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "expected"),
    [
        # 4500 x 2.9 % = 130.5: the tie is where the rules differ.
        (4500, "0.029", Rounding.HALF_UP, 131),
        (4500, "0.029", Rounding.HALF_EVEN, 130),
        (4500, "0.029", Rounding.DOWN, 130),
        (4500, "0.029", Rounding.UP, 131),
        # 4490 x 2.9 % = 130.21
        (4490, "0.029", Rounding.HALF_UP, 130),
        (4490, "0.029", Rounding.UP, 131),
        # 4510 x 2.9 % = 130.79
        (4510, "0.029", Rounding.HALF_EVEN, 131),
        (4510, "0.029", Rounding.DOWN, 130),
        # 1500 x 2.9 % = 43.5: half-even rounds this tie up (to the even 44).
        (1500, "0.029", Rounding.HALF_EVEN, 44),
        # Symmetric around zero: refunds mirror charges.
        (-4500, "0.029", Rounding.HALF_UP, -131),
        (-4500, "0.029", Rounding.DOWN, -130),
        (-4500, "0.029", Rounding.UP, -131),
        (-4500, "0.029", Rounding.HALF_EVEN, -130),
        (1000, "1", Rounding.DOWN, 1000),
        (1000, "0", Rounding.UP, 0),
    ],
)
def test_apply_rate_rounds_by_the_named_rule(
    amount: int, rate: str, rounding: Rounding, expected: int
) -> None:
    assert Money(amount, "usd").apply_rate(Decimal(rate), rounding) == Money(expected, "usd")


def test_apply_rate_accepts_the_rule_by_value() -> None:
    price = Money(4500, "usd")
    assert price.apply_rate(Decimal("0.029"), "half_even") == Money(130, "usd")  # type: ignore[arg-type]


def test_apply_rate_is_exact_beyond_default_decimal_precision() -> None:
    # 28 significant digits is the default context; a rounding there would lose the last unit.
    amount = 10**30 + 1
    assert Money(amount, "usd").apply_rate(Decimal("1"), Rounding.DOWN).amount == amount


@pytest.mark.parametrize(
    "rate", [0.029, 1, "0.029", Decimal("NaN"), Decimal("Infinity"), Decimal("1E+31")]
)
def test_apply_rate_refuses_non_decimal_non_finite_or_absurd_rates(rate: object) -> None:
    with pytest.raises(InvalidAmount, match="rate"):
        Money(4500, "usd").apply_rate(rate, Rounding.HALF_UP)  # type: ignore[arg-type]


def test_rounding_values_are_stable() -> None:
    assert [rule.value for rule in Rounding] == ["half_up", "half_even", "down", "up"]
    assert Rounding.HALF_UP.decimal_rounding == "ROUND_HALF_UP"


@given(
    amount=AMOUNTS,
    rate=st.decimals(min_value=-10, max_value=10, places=6),
    rounding=st.sampled_from(Rounding),
)
def test_apply_rate_is_within_one_unit_of_the_exact_product(
    amount: int, rate: Decimal, rounding: Rounding
) -> None:
    exact = Fraction(amount) * Fraction(rate)
    result = Money(amount, "usd").apply_rate(rate, rounding).amount
    assert abs(result - exact) < 1
    if rounding is Rounding.DOWN:
        assert abs(result) <= abs(exact)
    if rounding is Rounding.UP:
        assert abs(result) >= abs(exact)
    if rounding in (Rounding.HALF_UP, Rounding.HALF_EVEN):
        assert abs(result - exact) <= Fraction(1, 2)


@pytest.mark.parametrize(
    ("amount", "ratios", "expected"),
    [
        (10, [1, 1, 1], [4, 3, 3]),
        (5, [1, 1], [3, 2]),
        (100, [1, 2], [33, 67]),  # remainders 1/3 and 2/3: the larger one gets the unit
        (100, [1, 0, 1], [50, 0, 50]),
        (1, [0, 1, 1], [0, 1, 0]),
        (0, [3, 7], [0, 0]),
        (-10, [1, 1, 1], [-4, -3, -3]),
        (1000, [70, 20, 10], [700, 200, 100]),
    ],
)
def test_allocate_examples(amount: int, ratios: list[int], expected: list[int]) -> None:
    shares = Money(amount, "usd").allocate(ratios)
    assert shares == [Money(share, "usd") for share in expected]


@pytest.mark.parametrize("ratios", [[], [0, 0], [-1, 2], [1, 1.5], [True, 1]])
def test_allocate_refuses_bad_ratios(ratios: list[int]) -> None:
    with pytest.raises(ValueError, match="ratios"):
        Money(100, "usd").allocate(ratios)


@given(amount=AMOUNTS, ratios=RATIOS)
def test_allocation_sums_exactly_and_stays_within_one_unit(amount: int, ratios: list[int]) -> None:
    money = Money(amount, "jpy")
    shares = money.allocate(ratios)
    assert len(shares) == len(ratios)
    assert sum(share.amount for share in shares) == amount
    assert all(share.currency == "jpy" for share in shares)
    whole = sum(ratios)
    for share, ratio in zip(shares, ratios, strict=True):
        exact = Fraction(amount * ratio, whole)
        assert abs(share.amount - exact) < 1
        if ratio == 0:
            assert share.is_zero()
        assert share.amount * amount >= 0  # never a share of the opposite sign


@given(amount=AMOUNTS, ratios=RATIOS)
def test_allocating_a_negative_amount_mirrors_the_positive_one(
    amount: int, ratios: list[int]
) -> None:
    positive = Money(abs(amount), "usd").allocate(ratios)
    negative = Money(-abs(amount), "usd").allocate(ratios)
    assert negative == [-share for share in positive]


@given(amount=AMOUNTS, n=st.integers(min_value=1, max_value=50))
def test_split_parts_differ_by_at_most_one_and_earlier_parts_get_extra(amount: int, n: int) -> None:
    parts = [part.amount for part in Money(amount, "usd").split(n)]
    assert len(parts) == n
    assert sum(parts) == amount
    assert max(parts) - min(parts) <= 1
    magnitudes = [abs(part) for part in parts]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_split_into_one_part_is_the_amount() -> None:
    assert Money(4500, "usd").split(1) == [Money(4500, "usd")]


@pytest.mark.parametrize("n", [0, -1, True, 1.5])
def test_split_refuses_a_bad_part_count(n: object) -> None:
    with pytest.raises(ValueError, match="parts"):
        Money(100, "usd").split(n)  # type: ignore[arg-type]
