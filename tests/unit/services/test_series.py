"""Series packages: created over an organizer's own events, bought as one item that registers
the buyer at every event, its price split over the events without losing a cent."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventpay import sample_data
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import Principal, Role
from eventpay.sample_ids import PAYOUT_EVENT, UNCLAIMED_EVENT
from eventpay.services import series
from eventpay.services.basket_teams import SeriesItem
from eventpay.services.errors import Conflict, InvalidRequest, NotFound

from .scenario import ADMIN, MEMBER, SPRING, SUMMER, WINTER, World, item

ORGANIZER = Principal(
    user_id="org-user", role=Role.ORGANIZER, organizer_id=sample_data.ORGANIZER.id
)


def create(
    world: World,
    event_ids: tuple[str, ...] = (SPRING, PAYOUT_EVENT),
    caller: Principal = ADMIN,
    **overrides: Any,
) -> series.SeriesView:
    values: dict[str, Any] = {
        "name": "Desert Double",
        "event_ids": event_ids,
        "prices": {"SPL": 8000, "SQ": 7000},
    }
    values.update(overrides)
    return series.create_series(
        uow_factory=world.uow_factory,
        caller=caller,
        asked=series.SeriesSetup(**values),
        now=world.clock(),
    )


def series_lines(order: Any) -> list[Any]:
    return [line for line in order.lines if line.kind == "series"]


def test_an_organizer_creates_a_series_of_their_events_and_anyone_lists_it(world: World) -> None:
    made = create(world, (SPRING, SUMMER), caller=ORGANIZER)
    assert made.series.event_ids == (SPRING, SUMMER)
    assert made.series.prices == {"SPL": 8000, "SQ": 7000}
    listed = series.list_series(uow_factory=world.uow_factory)
    assert made.series.id in [s.series.id for s in listed]
    one = series.get_series(uow_factory=world.uow_factory, series_id=made.series.id)
    assert [e.id for e in one.events if e is not None] == [SPRING, SUMMER]
    (entry,) = [e for e in world.store.tables.audit if e.entity_id == made.series.id]
    assert (entry.action, entry.actor_id) == ("series.created", ORGANIZER.user_id)
    with pytest.raises(NotFound):
        series.get_series(uow_factory=world.uow_factory, series_id="nope")


def test_an_organizer_cannot_package_another_organizers_event(world: World) -> None:
    with pytest.raises(NotFound) as refused:
        create(world, (SPRING, PAYOUT_EVENT), caller=ORGANIZER)
    assert refused.value.details["event_id"] == PAYOUT_EVENT


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_ids": (SPRING,)}, "event_ids"),
        ({"event_ids": (SPRING, SPRING)}, "event_ids"),
        ({"name": ""}, "name"),
        ({"prices": {}}, "prices"),
        ({"prices": {"SPL": -1}}, "prices.SPL"),
        ({"currency": "eur"}, "prices"),
    ],
)
def test_bad_series_are_422_naming_the_field(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        create(world, **overrides)
    assert refused.value.details["field"] == field


def test_the_package_is_split_in_proportion_to_the_buyers_own_prices(world: World) -> None:
    made = create(world)
    buyer = world.new_buyer()
    order = world.place_order(SeriesItem(made.series.id, ("SPL",)), buyer=buyer).order
    # Non-member: Spring's SPL early bird 40.00, Sundown's SPL 60.00 -> 8000 split 4:6.
    assert [(line.event_id, line.amount) for line in series_lines(order)] == [
        (SPRING, 3200),
        (PAYOUT_EVENT, 4800),
    ]
    assert [line.class_id for line in series_lines(order)] == ["spring-spl", f"{PAYOUT_EVENT}-spl"]
    assert order.subtotal == 8000
    assert [(r.event_id, r.competitor_id, r.class_ids) for r in order.registrations] == [
        (SPRING, buyer.user_id, ["spring-spl"]),
        (PAYOUT_EVENT, buyer.user_id, [f"{PAYOUT_EVENT}-spl"]),
    ]


def test_a_member_is_split_by_member_prices(world: World) -> None:
    made = create(world)
    order = world.place_order(SeriesItem(made.series.id, ("spl",)), buyer=MEMBER).order
    # Member: Spring 40.00 (early bird beats 45.00), Sundown 45.00 -> 8000 split 40:45.
    assert [line.amount for line in series_lines(order)] == [3765, 4235]


def test_several_codes_make_one_line_per_event(world: World) -> None:
    made = create(world)
    order = world.place_order(
        SeriesItem(made.series.id, ("SPL", "SQ")), buyer=world.new_buyer()
    ).order
    lines = series_lines(order)
    assert [line.event_id for line in lines] == [SPRING, PAYOUT_EVENT]
    assert sum(line.amount for line in lines) == 15000
    assert {line.class_id for line in lines} == {None}
    assert [len(r.class_ids) for r in order.registrations] == [2, 2]


def test_paying_confirms_a_registration_at_every_event(world: World) -> None:
    made = create(world)
    buyer = world.new_buyer()
    order = world.place_order(SeriesItem(made.series.id, ("SPL",)), buyer=buyer).order
    world.pay(order.id, buyer=buyer)
    view = world.view(order.id)
    assert {r.status for r in view.order.registrations} == {RegistrationStatus.CONFIRMED}


def test_an_event_not_open_refuses_the_whole_package_naming_it(world: World) -> None:
    for closed in (SUMMER, WINTER):
        made = create(world, (SPRING, closed))
        with pytest.raises(Conflict) as refused:
            world.place_order(SeriesItem(made.series.id, ("SPL",)), buyer=world.new_buyer())
        assert refused.value.details["event_id"] == closed


def test_a_code_missing_at_an_event_is_422_naming_event_and_code(world: World) -> None:
    made = create(world, prices={"SPL": 8000, "DB": 5000})
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(SeriesItem(made.series.id, ("DB",)), buyer=world.new_buyer())
    assert refused.value.code == "series_class_missing"
    assert (refused.value.details["event_id"], refused.value.details["code"]) == (SPRING, "DB")


@pytest.mark.parametrize(
    ("series_id", "codes", "code"),
    [
        ("nope", ("SPL",), "unknown_series"),
        (None, ("PRO",), "series_class_not_offered"),
        (None, ("SPL", "spl"), "invalid_series_item"),
    ],
)
def test_bad_items_are_422(
    world: World, series_id: str | None, codes: tuple[str, ...], code: str
) -> None:
    made = create(world)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(SeriesItem(series_id or made.series.id, codes), buyer=world.new_buyer())
    assert refused.value.code == code


def test_a_buyer_already_entered_at_one_event_is_refused(world: World) -> None:
    made = create(world)
    buyer = world.new_buyer()
    entry = world.place_order(item(PAYOUT_EVENT, f"{PAYOUT_EVENT}-spl"), buyer=buyer)
    world.pay(entry.order.id, buyer=buyer)
    with pytest.raises(Conflict) as refused:
        world.place_order(SeriesItem(made.series.id, ("SPL",)), buyer=buyer)
    assert refused.value.code == "already_registered"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    package=st.integers(min_value=0, max_value=10**7),
    member=st.booleans(),
    three=st.booleans(),
)
def test_the_lines_always_add_up_to_the_package(package: int, member: bool, three: bool) -> None:
    world = World()
    events = (SPRING, PAYOUT_EVENT, UNCLAIMED_EVENT) if three else (SPRING, PAYOUT_EVENT)
    made = create(world, events, prices={"SPL": package})
    buyer = MEMBER if member else world.new_buyer()
    order = world.place_order(SeriesItem(made.series.id, ("SPL",)), buyer=buyer).order
    lines = series_lines(order)
    assert [line.event_id for line in lines] == list(events)
    assert sum(line.amount for line in lines) == package
    assert all(line.amount >= 0 for line in lines)
    assert order.total == order.organizer_net + order.platform_fee + order.tax


def test_the_demo_seeds_a_series_buyers_can_take(world: World) -> None:
    (seeded,) = series.list_series(uow_factory=world.uow_factory)
    assert seeded.series.event_ids == sample_data.SERIES_EVENTS
    order = world.place_order(SeriesItem(seeded.series.id, ("SQ",)), buyer=world.new_buyer()).order
    assert sum(line.amount for line in series_lines(order)) == 8000
