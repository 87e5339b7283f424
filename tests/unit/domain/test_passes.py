"""Spectator passes and VIP upgrades: event days, sale windows, pass lines, upgrade prices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.passes import (
    MAX_PASS_QUANTITY,
    ChargedClass,
    PassError,
    PassNotOnSale,
    PassType,
    VipNotOffered,
    VipSalesClosed,
    charged_per_class,
    check_name,
    check_on_sale,
    check_price,
    check_vip_on_sale,
    end_of,
    event_days,
    gate_stock_id,
    pass_line,
    places_left,
    resolve_days,
    vip_line,
    vip_stock_id,
    vip_upgrade_price,
)
from eventpay.domain.pricing import LineKind

from .builders import OPENS, STARTS, make_event, usd

# STARTS is 2027-04-10 08:00 UTC: 03:00 in Chicago, the same date.
WEEKEND = replace(make_event(), ends_at=STARTS + timedelta(days=2))
FRI, SAT, SUN = date(2027, 4, 10), date(2027, 4, 11), date(2027, 4, 12)


def weekend_pass(*days: date, price: int = 2500) -> PassType:
    return PassType("p1", WEEKEND.id, "Weekend", usd(price), days or (FRI, SAT, SUN))


def test_a_one_day_event_has_its_start_date_in_its_own_time_zone() -> None:
    late = replace(make_event(), starts_at=datetime(2027, 4, 10, 2, 0, tzinfo=UTC))

    assert event_days(late) == (date(2027, 4, 9),)  # 21:00 the evening before in Chicago


def test_a_weekend_has_each_date_from_start_to_end() -> None:
    assert event_days(WEEKEND) == (FRI, SAT, SUN)


def test_all_days_and_chosen_days_resolve_sorted() -> None:
    assert resolve_days(WEEKEND, "all") == (FRI, SAT, SUN)
    assert resolve_days(WEEKEND, ["2027-04-12", "2027-04-10"]) == (FRI, SUN)


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("some", '"all"'),
        ([], "at least one day"),
        (["12/04/2027"], "not a date"),
        (["2027-04-13"], r"not a day of the event \(2027-04-10, 2027-04-11, 2027-04-12\)"),
        (["2027-04-11", "2027-04-11"], "listed twice"),
    ],
)
def test_days_that_are_not_the_events_are_refused_naming_the_field(
    asked: list[str] | str, message: str
) -> None:
    with pytest.raises(PassError, match=message) as refused:
        resolve_days(WEEKEND, asked)

    assert refused.value.code == "invalid_pass"
    assert refused.value.details == {"field": "days"}


def test_a_name_is_trimmed_and_bounded() -> None:
    assert check_name("  Saturday  ") == "Saturday"
    for bad in ["   ", "x" * 101]:
        with pytest.raises(PassError) as refused:
            check_name(bad)
        assert refused.value.field == "name"


def test_a_price_is_in_the_events_currency_and_not_absurd() -> None:
    assert check_price(usd(0), WEEKEND, field="price") == usd(0)
    for bad in [Money(100, "eur"), usd(-1), usd(100_000_01)]:
        with pytest.raises(PassError) as refused:
            check_price(bad, WEEKEND, field="prices.spl")
        assert refused.value.details == {"field": "prices.spl"}


def test_a_pass_takes_one_gate_stock_item_per_day() -> None:
    assert weekend_pass(FRI, SUN).stock_ids() == ("gate:evt_1:2027-04-10", "gate:evt_1:2027-04-12")
    assert gate_stock_id("e", SAT) == "gate:e:2027-04-11"
    assert vip_stock_id("e") == "vip:e"


def test_passes_are_on_sale_from_registration_opening_until_their_last_day_is_over() -> None:
    saturday = weekend_pass(FRI, SAT)
    over = end_of(WEEKEND, SAT)

    assert over == datetime(2027, 4, 12, 5, 0, tzinfo=UTC)  # midnight in Chicago (CDT)
    check_on_sale(WEEKEND, saturday, OPENS)
    check_on_sale(WEEKEND, saturday, over - timedelta(microseconds=1))
    with pytest.raises(PassNotOnSale) as early:
        check_on_sale(WEEKEND, saturday, OPENS - timedelta(seconds=1))
    with pytest.raises(PassNotOnSale) as late:
        check_on_sale(WEEKEND, saturday, over)

    assert early.value.code == "pass_sales_not_open"
    assert late.value.code == "pass_sales_closed"
    assert late.value.details == {"pass_id": "p1"}
    assert "no longer" in str(late.value)


def test_vip_upgrades_are_sold_until_the_event_is_over() -> None:
    over = end_of(WEEKEND, SUN)

    check_vip_on_sale(WEEKEND, over - timedelta(microseconds=1))
    with pytest.raises(VipSalesClosed) as closed:
        check_vip_on_sale(WEEKEND, over)

    assert closed.value.code == "vip_sales_closed"
    assert closed.value.details == {"event_id": WEEKEND.id}


def test_a_pass_line_is_the_unit_price_times_the_quantity() -> None:
    one = pass_line(WEEKEND, weekend_pass(), 1)
    three = pass_line(WEEKEND, weekend_pass(), 3)

    assert (one.kind, one.amount, one.event_id) == (LineKind.PASS, usd(2500), WEEKEND.id)
    assert one.description.endswith("Weekend x 1 pass")
    assert three.amount == usd(7500)
    assert three.description.endswith("Weekend x 3 passes")


@pytest.mark.parametrize("quantity", [0, MAX_PASS_QUANTITY + 1])
def test_a_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    with pytest.raises(PassError) as refused:
        pass_line(WEEKEND, weekend_pass(), quantity)

    assert refused.value.field == "quantity"


def test_places_left_are_the_fewest_over_the_limited_days() -> None:
    assert places_left([None, None]) is None
    assert places_left([None, 7, 3]) == 3


def test_an_upgrade_costs_the_vip_price_less_what_was_charged_never_below_zero() -> None:
    classes = [
        ChargedClass("spl", usd(9000), usd(5000)),
        ChargedClass("sq", usd(4000), usd(4500)),  # charged more than its VIP price
    ]

    assert vip_upgrade_price("usd", classes) == usd(4000)


def test_a_class_without_a_vip_price_cannot_be_upgraded() -> None:
    with pytest.raises(VipNotOffered) as refused:
        vip_upgrade_price(
            "usd", [ChargedClass("spl", usd(9000), usd(0)), ChargedClass("sq", None, usd(0))]
        )

    assert (refused.value.code, refused.value.details) == ("vip_not_offered", {"class_id": "sq"})


@given(st.lists(st.tuples(st.integers(0, 10**8), st.integers(0, 10**8)), min_size=1, max_size=6))
def test_an_upgrade_price_is_the_sum_of_the_positive_differences(
    pairs: list[tuple[int, int]],
) -> None:
    classes = [ChargedClass(f"c{n}", usd(vip), usd(paid)) for n, (vip, paid) in enumerate(pairs)]

    price = vip_upgrade_price("usd", classes)

    assert price.amount == sum(max(vip - paid, 0) for vip, paid in pairs)
    assert not price.is_negative()
    # Paying the upgrade on top of what was charged reaches at least every VIP price.
    assert price.amount + sum(paid for _, paid in pairs) >= sum(vip for vip, _ in pairs)


def test_what_was_charged_per_class_takes_the_lowest_line_and_zero_without_one() -> None:
    lines = [
        ("spl", usd(5000)),
        ("spl", usd(4000)),
        ("spl", usd(4500)),
        (None, usd(999)),
        ("other", usd(1)),
    ]

    charged = charged_per_class(lines, ["spl", "sq"], "usd")

    assert charged == {"spl": usd(4000), "sq": usd(0)}


def test_the_vip_line_names_the_classes() -> None:
    line = vip_line(WEEKEND, ["SPL", "SQ"], usd(4000))

    assert (line.kind, line.amount, line.event_id) == (LineKind.VIP_UPGRADE, usd(4000), "evt_1")
    assert line.description.endswith("VIP upgrade (SPL, SQ)")
