"""Series packages: the terms an organizer may set, the package price of some class codes, and
its split over the events (exact to the minor unit, never negative, in proportion)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.series import (
    MAX_EVENTS,
    SeriesRefused,
    SeriesTerms,
    allocate_package,
    check_event_ids,
    class_code,
)


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def series(**overrides: Any) -> SeriesTerms:
    values: dict[str, Any] = {
        "name": "Triple Crown",
        "event_ids": ("a", "b", "c"),
        "currency": "usd",
        "prices": {"SPL": usd(15000), "sq": usd(12000)},
    }
    values.update(overrides)
    return SeriesTerms(**values)


def test_terms_are_stored_in_one_form() -> None:
    made = series(name="  Triple   Crown ", event_ids=["a", "b"])
    assert made.name == "Triple Crown"
    assert made.event_ids == ("a", "b")
    assert made.prices == {"SPL": usd(15000), "SQ": usd(12000)}
    assert class_code(" spl ") == "SPL"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": " "}, "invalid_series", "name"),
        ({"event_ids": ("a",)}, "invalid_series", "event_ids"),
        (
            {"event_ids": tuple(str(i) for i in range(MAX_EVENTS + 1))},
            "invalid_series",
            "event_ids",
        ),
        ({"event_ids": ("a", "b", "a")}, "invalid_series", "event_ids"),
        ({"prices": {}}, "invalid_series", "prices"),
        ({"prices": {"SPL": usd(1), "spl": usd(2)}}, "invalid_series", "prices.spl"),
        ({"prices": {" ": usd(1)}}, "invalid_series", "prices. "),
        ({"prices": {"SPL": Money(1, "eur")}}, "currency_mismatch", "prices.SPL"),
        ({"prices": {"SPL": usd(-1)}}, "invalid_series", "prices.SPL"),
        ({"prices": {"SPL": usd(10**10 + 1)}}, "invalid_series", "prices.SPL"),
    ],
)
def test_terms_that_cannot_be_sold_are_refused_naming_the_field(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(SeriesRefused) as refused:
        series(**overrides)
    assert (refused.value.code, refused.value.details["field"]) == (code, field)


def test_event_ids_are_checked_alone_before_loading_events() -> None:
    check_event_ids(["a", "b"])
    with pytest.raises(SeriesRefused):
        check_event_ids(["a", "a"])


def test_the_package_price_adds_the_codes_asked_for() -> None:
    assert series().package_price(["SPL"]) == usd(15000)
    assert series().package_price(["spl", "SQ"]) == usd(27000)


@pytest.mark.parametrize(
    ("codes", "code", "extra"),
    [
        ([], "invalid_series_item", {}),
        (["SPL", "spl"], "invalid_series_item", {"class_code": "SPL"}),
        (["DB"], "series_class_not_offered", {"class_code": "DB"}),
    ],
)
def test_codes_asked_for_wrongly_are_refused(
    codes: list[str], code: str, extra: dict[str, str]
) -> None:
    with pytest.raises(SeriesRefused) as refused:
        series().package_price(codes)
    assert refused.value.code == code
    assert refused.value.details == {"field": "class_codes", **extra}


def test_the_package_splits_in_proportion_to_the_stand_alone_prices() -> None:
    shares = allocate_package(usd(15000), [usd(6000), usd(6000), usd(8000)])
    assert shares == (usd(4500), usd(4500), usd(6000))


def test_the_leftover_cents_go_to_the_largest_remainders() -> None:
    assert allocate_package(usd(100), [usd(1), usd(1), usd(1)]) == (usd(34), usd(33), usd(33))
    assert allocate_package(usd(10), [usd(1), usd(2)]) == (usd(3), usd(7))


def test_events_free_alone_share_the_package_equally() -> None:
    assert allocate_package(usd(101), [usd(0), usd(0)]) == (usd(51), usd(50))


def test_an_event_free_alone_gets_nothing_when_another_is_not() -> None:
    assert allocate_package(usd(5000), [usd(0), usd(4000)]) == (usd(0), usd(5000))


@pytest.mark.parametrize(
    ("price", "standalone"), [(usd(1), []), (usd(-1), [usd(1)]), (usd(1), [usd(-1), usd(3)])]
)
def test_nonsense_inputs_are_programming_errors(price: Money, standalone: list[Money]) -> None:
    with pytest.raises(ValueError, match=r"at least one event|must not be negative"):
        allocate_package(price, standalone)


@given(
    price=st.integers(min_value=0, max_value=10**10),
    standalone=st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=20),
)
def test_the_split_never_loses_a_cent_and_follows_the_weights(
    price: int, standalone: list[int]
) -> None:
    shares = allocate_package(usd(price), [usd(a) for a in standalone])
    assert len(shares) == len(standalone)
    assert sum(share.amount for share in shares) == price
    assert all(share.amount >= 0 for share in shares)
    assert {share.currency for share in shares} == {"usd"}
    whole = sum(standalone)
    for share, weight in zip(shares, standalone, strict=True):
        if whole == 0:
            assert abs(share.amount - Fraction(price, len(standalone))) < 1
        else:
            # Largest remainder: each share is within one cent of its exact proportion.
            assert abs(share.amount - Fraction(price * weight, whole)) < 1
            if weight == 0:
                assert share.amount == 0


@given(
    price=st.integers(min_value=0, max_value=10**7),
    a=st.integers(min_value=0, max_value=10**6),
    b=st.integers(min_value=0, max_value=10**6),
)
def test_a_dearer_event_never_gets_a_smaller_share(price: int, a: int, b: int) -> None:
    first, second = allocate_package(usd(price), [usd(a), usd(b)])
    if a > b:
        assert first >= second
    if b > a:
        assert second >= first
