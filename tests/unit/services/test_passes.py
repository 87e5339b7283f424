"""Spectator passes and VIP upgrades on the fake unit of work: set-up by the organizer, pricing
by the server, places per day, and the refusals of an upgrade."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay import sample_data
from eventpay.domain import Money
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.passes import end_of, event_days
from eventpay.domain.places import PlaceStatus
from eventpay.ports import Principal, Role
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_ORGANIZER_ID, UNCLAIMED_ORGANIZER_ID
from eventpay.services import passes
from eventpay.services.basket_passes import PassItem, VipUpgradeItem
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.passes import PassInput, PriceInput

from .scenario import ADMIN, SPRING, World, item

GATE_EVENT = sample_data.PASS_EVENT
GATE_OWNER = Principal("o-3", Role.ORGANIZER, organizer_id=UNCLAIMED_ORGANIZER_ID)
SPRING_OWNER = Principal("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = Principal("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)


def offer(world: World) -> passes.EventPasses:
    return passes.list_passes(uow_factory=world.uow_factory, event_id=GATE_EVENT)


def pass_id(world: World, name: str) -> str:
    (found,) = [o.pass_type.id for o in offer(world).passes if o.pass_type.name == name]
    return found


def set_gate(world: World, capacity: int | None, caller: Principal = GATE_OWNER) -> None:
    passes.set_gate_capacity(
        uow_factory=world.uow_factory,
        caller=caller,
        event_id=GATE_EVENT,
        capacity=capacity,
        now=world.clock(),
    )


def test_the_demo_gate_sells_one_two_and_three_day_passes(world: World) -> None:
    found = offer(world)

    assert [d.capacity for d in found.days] == [sample_data.GATE_PLACES_PER_DAY] * 3
    assert [(o.pass_type.name, len(o.pass_type.days)) for o in found.passes] == [
        ("Friday only", 1),
        ("Friday and Saturday", 2),
        ("Full weekend", 3),
    ]
    assert all(o.places_left == sample_data.GATE_PLACES_PER_DAY for o in found.passes)


def test_a_pass_is_one_server_priced_line_and_takes_its_quantity_on_each_day(
    world: World,
) -> None:
    two_day = pass_id(world, "Friday and Saturday")

    placed = world.place_order(PassItem(GATE_EVENT, two_day, 3), buyer=world.new_buyer())

    (line,) = [ln for ln in placed.order.lines if ln.kind != "fee"]
    assert (line.kind, line.amount) == ("pass", 3 * 2500)
    assert "Friday and Saturday x 3 passes" in line.description
    assert placed.order.registrations == []
    left = {d.day: d.left for d in offer(world).days}
    friday, saturday, sunday = sorted(left)
    assert (left[friday], left[saturday], left[sunday]) == (297, 297, 300)
    places = world.store.tables.places.values()
    assert sorted((p.stock_id[-10:], p.quantity, p.holder) for p in places) == [
        (friday.isoformat(), 3, None),
        (saturday.isoformat(), 3, None),
    ]


def test_a_day_is_never_oversold_and_the_late_buyer_is_told_before_paying(world: World) -> None:
    set_gate(world, 4)
    weekend, friday = pass_id(world, "Full weekend"), pass_id(world, "Friday only")
    world.place_order(PassItem(GATE_EVENT, weekend, 3), buyer=world.new_buyer())

    with pytest.raises(Conflict) as refused:
        world.place_order(PassItem(GATE_EVENT, friday, 2), buyer=world.new_buyer())

    assert refused.value.code == "sold_out"
    assert refused.value.details["places_left"] == 1
    assert [o.places_left for o in offer(world).passes] == [1, 1, 1]
    with pytest.raises(Conflict) as below:
        set_gate(world, 2)
    assert below.value.code == "capacity_below_taken"


def test_paid_passes_are_confirmed_and_expired_ones_give_their_places_back(
    world: World,
) -> None:
    weekend = pass_id(world, "Full weekend")
    paid = world.place_order(PassItem(GATE_EVENT, weekend, 2), buyer=world.new_buyer())
    world.pay(paid.order.id)
    world.place_order(PassItem(GATE_EVENT, weekend, 5), buyer=world.new_buyer())

    world.clock.advance(hours=2)
    set_gate(world, 2)  # only the paid passes still count

    statuses = {p.order_id: p.status for p in world.store.tables.places.values()}
    assert statuses[paid.order.id] is PlaceStatus.CONFIRMED
    assert [d.left for d in offer(world).days] == [0, 0, 0]


def test_passes_are_sold_until_their_last_day_is_over(world: World) -> None:
    friday = pass_id(world, "Friday only")
    event = world.store.tables.events[GATE_EVENT]
    friday_over = end_of(event, event_days(event)[0])
    world.clock.now = friday_over - timedelta(hours=1)  # at the gate, registration long closed

    world.place_order(PassItem(GATE_EVENT, friday, 1), buyer=world.new_buyer())

    world.clock.now = friday_over
    with pytest.raises(Conflict) as closed:
        world.place_order(PassItem(GATE_EVENT, friday, 1), buyer=world.new_buyer())
    assert closed.value.code == "pass_sales_closed"


def test_a_pass_of_another_event_is_unknown(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(PassItem(SPRING, pass_id(world, "Friday only"), 1))

    assert (refused.value.code, refused.value.details["item"]) == ("unknown_pass", 0)


def test_only_the_organizer_or_an_admin_sets_passes_up_and_it_is_audited(world: World) -> None:
    asked = PassInput(
        "Sunday",
        PriceInput(1200),
        [event_days(world.store.tables.events[GATE_EVENT])[-1].isoformat()],
    )
    for stranger in [RIVAL, Principal("c", Role.COMPETITOR)]:
        with pytest.raises(NotFound):
            passes.create_pass_type(
                uow_factory=world.uow_factory,
                caller=stranger,
                event_id=GATE_EVENT,
                asked=asked,
                now=world.clock(),
            )

    created = passes.create_pass_type(
        uow_factory=world.uow_factory,
        caller=ADMIN,
        event_id=GATE_EVENT,
        asked=asked,
        now=world.clock(),
    )

    assert created.pass_type.price == Money(1200, "usd")
    assert created.places_left == sample_data.GATE_PLACES_PER_DAY
    (entry,) = [e for e in world.store.tables.audit if e.entity_id == created.pass_type.id]
    assert (entry.action, entry.actor_id, entry.details["days"]) == (
        "pass_type.created",
        ADMIN.user_id,
        list(asked.days),
    )


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        (PassInput("Someday", PriceInput(1000), ["2001-01-01"]), "days"),
        (PassInput("  ", PriceInput(1000), "all"), "name"),
        (PassInput("Euro", PriceInput(1000, "EUR"), "all"), "price"),
        (PassInput("Free?", PriceInput(-5), "all"), "price"),
        (PassInput("Odd", PriceInput(1000, "xyz"), "all"), "price"),
    ],
)
def test_bad_pass_set_up_is_refused_naming_the_field(
    world: World, asked: PassInput, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        passes.create_pass_type(
            uow_factory=world.uow_factory,
            caller=GATE_OWNER,
            event_id=GATE_EVENT,
            asked=asked,
            now=world.clock(),
        )

    assert refused.value.details["field"] == field


def test_a_capacity_out_of_bounds_is_refused(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        set_gate(world, -1)

    assert refused.value.details == {"field": "capacity_per_day"}


# ---------------------------------------------------------------------------- VIP


def paid_entry(world: World, *class_ids: str) -> tuple[Principal, str]:
    buyer = world.new_buyer()
    placed = world.place_order(item(SPRING, *class_ids), buyer=buyer)
    world.pay(placed.order.id)
    return buyer, placed.order.registrations[0].id


def test_an_upgrade_pays_the_vip_price_less_what_each_class_was_charged(world: World) -> None:
    buyer, registration_id = paid_entry(world, "spring-spl", "spring-sq")
    (entry,) = [
        o
        for o in world.store.tables.orders.values()
        if any(r.id == registration_id for r in o.registrations)
    ]
    entry_lines = entry.lines

    placed = world.place_order(VipUpgradeItem(registration_id), buyer=buyer)

    charged = sum(ln.amount - ln.discount for ln in entry_lines if ln.kind == "registration")
    (line,) = [ln for ln in placed.order.lines if ln.kind != "fee"]
    assert line.kind == "vip_upgrade"
    assert line.amount == sum(sample_data.VIP_PRICES.values()) - charged
    assert "VIP upgrade (SPL, SQ)" in line.description
    view = passes.get_registration(
        uow_factory=world.uow_factory, caller=buyer, registration_id=registration_id
    )
    assert not view.vip  # reserved, not paid

    world.pay(placed.order.id)

    view = passes.get_registration(
        uow_factory=world.uow_factory, caller=buyer, registration_id=registration_id
    )
    assert view.vip
    assert passes.get_vip(uow_factory=world.uow_factory, event_id=SPRING).places_left == (
        sample_data.VIP_PLACES - 1
    )
    with pytest.raises(Conflict) as again:
        world.place_order(VipUpgradeItem(registration_id), buyer=buyer)
    assert again.value.code == "already_upgraded"


def test_an_unpaid_or_cancelled_registration_cannot_be_upgraded(world: World) -> None:
    buyer = world.new_buyer()
    unpaid = world.place_order(item(SPRING), buyer=buyer).order.registrations[0].id

    with pytest.raises(Conflict) as not_paid:
        world.place_order(VipUpgradeItem(unpaid), buyer=buyer)

    owner, paid = paid_entry(world)
    with world.uow_factory() as uow:
        uow.orders.set_registration_status(paid, RegistrationStatus.CANCELLED, at=world.clock())
        uow.commit()
    with pytest.raises(Conflict) as cancelled:
        world.place_order(VipUpgradeItem(paid), buyer=owner)

    assert not_paid.value.code == "registration_not_paid"
    assert cancelled.value.code == "registration_cancelled"


def test_someone_elses_registration_is_not_found(world: World) -> None:
    _, registration_id = paid_entry(world)

    for unknown in [registration_id, "no-such-registration"]:
        with pytest.raises(InvalidRequest) as refused:
            world.place_order(VipUpgradeItem(unknown), buyer=world.new_buyer())
        assert refused.value.code == "registration_not_found"
    with pytest.raises(NotFound):
        passes.get_registration(
            uow_factory=world.uow_factory, caller=RIVAL, registration_id=registration_id
        )


def test_a_class_without_a_vip_price_is_not_offered(world: World) -> None:
    passes.set_vip(
        uow_factory=world.uow_factory,
        caller=SPRING_OWNER,
        event_id=SPRING,
        capacity=None,
        prices={"spring-spl": PriceInput(9000)},
        now=world.clock(),
    )
    buyer, registration_id = paid_entry(world, "spring-sq")

    with pytest.raises(InvalidRequest) as refused:
        world.place_order(VipUpgradeItem(registration_id), buyer=buyer)

    assert (refused.value.code, refused.value.details["class_id"]) == (
        "vip_not_offered",
        "spring-sq",
    )


def test_vip_places_are_never_oversold(world: World) -> None:
    passes.set_vip(
        uow_factory=world.uow_factory,
        caller=ADMIN,
        event_id=SPRING,
        capacity=1,
        prices={k: PriceInput(v) for k, v in sample_data.VIP_PRICES.items()},
        now=world.clock(),
    )
    first, first_reg = paid_entry(world)
    second, second_reg = paid_entry(world, "spring-sq")
    world.place_order(VipUpgradeItem(first_reg), buyer=first)

    with pytest.raises(Conflict) as refused:
        world.place_order(VipUpgradeItem(second_reg), buyer=second)

    assert refused.value.code == "sold_out"


def test_the_same_upgrade_twice_in_one_order_is_refused(world: World) -> None:
    buyer, registration_id = paid_entry(world)

    with pytest.raises(InvalidRequest) as refused:
        world.place_order(
            VipUpgradeItem(registration_id), VipUpgradeItem(registration_id), buyer=buyer
        )

    assert refused.value.code == "duplicate_registration"


def test_vip_set_up_names_an_unknown_class_and_is_only_the_organizers(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        passes.set_vip(
            uow_factory=world.uow_factory,
            caller=SPRING_OWNER,
            event_id=SPRING,
            capacity=10,
            prices={"winter-spl": PriceInput(9000)},
            now=world.clock(),
        )
    with pytest.raises(NotFound):
        passes.set_vip(
            uow_factory=world.uow_factory,
            caller=RIVAL,
            event_id=SPRING,
            capacity=10,
            prices={},
            now=world.clock(),
        )

    assert refused.value.details == {"field": "prices.winter-spl"}


def test_an_upgrade_that_costs_nothing_is_vip_at_once(world: World) -> None:
    passes.set_vip(
        uow_factory=world.uow_factory,
        caller=SPRING_OWNER,
        event_id=SPRING,
        capacity=None,
        prices={"spring-spl": PriceInput(100)},  # below any entry price
        now=world.clock(),
    )
    buyer, registration_id = paid_entry(world)

    placed = world.place_order(VipUpgradeItem(registration_id), buyer=buyer)

    assert placed.order.total == 0
    assert passes.get_registration(
        uow_factory=world.uow_factory, caller=ADMIN, registration_id=registration_id
    ).vip
