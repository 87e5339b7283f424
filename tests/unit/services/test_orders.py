"""create_order and get_order over the sample catalog: prices, stored rows, audit, refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from eventpay import sample_data
from eventpay.domain import CompetitionClass, FeePayer, FeePolicy, Money, OrderStatus, Organizer
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import Principal
from eventpay.services import catalog, orders
from eventpay.services.errors import Conflict, InvalidRequest, NotFound, ServiceError
from eventpay.services.orders import RegistrationItem

from .fakes import FakeStore
from .scenario import (
    ADMIN,
    BUYER,
    EXPIRES_IN,
    FEE_POLICY,
    MEMBER,
    SPRING,
    STRANGER,
    SUMMER,
    WINTER,
    World,
    item,
)

DAY = timedelta(days=1)


def lines_of(world: World, order_id: str) -> list[tuple[str | None, int, str | None]]:
    order = world.store.tables.orders[order_id]
    return [(ln.class_id, ln.amount, ln.price_rule) for ln in order.lines]


# ---------------------------------------------------------------------------- pricing


def early_bird_deadline(world: World) -> datetime:
    deadline = world.store.tables.events[SPRING].class_by_id("spring-spl").early_bird_deadline
    assert deadline is not None
    return deadline


@pytest.mark.parametrize(
    ("buyer", "from_deadline", "expected"),
    [
        pytest.param(BUYER, -50 * DAY, (4000, "early_bird"), id="non-member-early-bird"),
        pytest.param(MEMBER, -50 * DAY, (4000, "early_bird"), id="member-early-bird-is-lower"),
        pytest.param(BUYER, DAY, (6000, "non_member"), id="non-member-late"),
        pytest.param(MEMBER, DAY, (4500, "member"), id="member-late"),
        pytest.param(BUYER, timedelta(0), (6000, "non_member"), id="deadline-is-exclusive"),
        pytest.param(BUYER, -timedelta(microseconds=1), (4000, "early_bird"), id="last-us"),
    ],
)
def test_single_class_price_follows_membership_and_early_bird(
    world: World, buyer: Principal, from_deadline: timedelta, expected: tuple[int, str]
) -> None:
    world.clock.now = early_bird_deadline(world) + from_deadline
    view = world.place_order(item(SPRING, "spring-spl"), buyer=buyer)

    amount, rule = expected
    assert lines_of(world, view.order.id) == [("spring-spl", amount, rule)]
    assert view.order.subtotal == amount
    assert view.order.total == amount  # the organizer pays the platform fee
    assert world.audit(view.order.id)[0].details["is_member"] is (buyer is MEMBER)


def test_second_class_costs_its_additional_class_price(world: World) -> None:
    world.clock.now = early_bird_deadline(world) + DAY

    view = world.place_order(item(SPRING, "spring-sq", "spring-spl"))

    # SPL (6000) is the dearer entry at full price; SQ drops from 5500 to its 2000.
    assert lines_of(world, view.order.id) == [
        ("spring-sq", 2000, "additional_class"),
        ("spring-spl", 6000, "non_member"),
    ]
    order = view.order
    assert (order.subtotal, order.total) == (8000, 8000)
    assert order.platform_fee == 8000 * 29 // 1000 + 30  # 2.9 % + 30 cents
    assert order.organizer_net == order.total - order.platform_fee
    assert view.summary.balance_due.amount == 8000


def test_items_for_two_events_make_one_order_with_a_registration_each(world: World) -> None:
    world.clock.now = world.seeded_at + 31 * DAY  # summer has opened, spring still open

    view = world.place_order(item(SPRING, "spring-spl"), item(SUMMER, "summer-sq"), buyer=MEMBER)

    assert lines_of(world, view.order.id) == [
        ("spring-spl", 4000, "early_bird"),
        ("summer-sq", 4000, "member"),
    ]
    regs = world.store.tables.orders[view.order.id].registrations
    assert [(r.event_id, r.class_ids) for r in regs] == [
        (SPRING, ["spring-spl"]),
        (SUMMER, ["summer-sq"]),
    ]
    assert view.order.total == 8000


# ---------------------------------------------------------------------------- stored state


def test_order_is_stored_with_pending_registrations_and_audited(world: World) -> None:
    view = world.place_order(item(SPRING, "spring-spl", "spring-sq"))

    stored = world.store.tables.orders[view.order.id]
    assert stored.buyer_id == BUYER.user_id
    assert stored.currency == "usd"
    assert stored.expires_at == world.clock() + timedelta(hours=1)
    assert [ln.position for ln in stored.lines] == [0, 1]
    (reg,) = stored.registrations
    assert reg.status is RegistrationStatus.PENDING
    assert reg.competitor_id == BUYER.user_id
    assert reg.class_ids == ["spring-spl", "spring-sq"]
    assert reg.confirmed_at is None
    assert view.status is OrderStatus.AWAITING_PAYMENT

    audit = world.audit(view.order.id)
    assert [(e.action, e.entity_id) for e in audit] == [
        ("order.created", view.order.id),
        ("registration.created", reg.id),
    ]
    created = audit[0]
    assert created.actor_id == BUYER.user_id
    assert created.ip_address == BUYER.ip_address
    assert created.details["total"] == stored.total
    assert created.details["is_member"] is False
    assert [line["amount"] for line in created.details["lines"]] == [4000, 2000]
    assert audit[1].details == {"event_id": SPRING, "class_ids": ["spring-spl", "spring-sq"]}


def test_each_order_gets_its_own_ids(world: World) -> None:
    first = world.place_order()
    second = world.place_order()

    assert first.order.id != second.order.id
    assert len(world.store.tables.orders) == 2
    reg_ids = {r.id for o in world.store.tables.orders.values() for r in o.registrations}
    assert len(reg_ids) == 2


# ---------------------------------------------------------------------------- refusals


def assert_nothing_stored(store: FakeStore, commits_before: int) -> None:
    assert store.tables.orders == {}
    # The sample catalog's seeding wrote its own rows (codes, passes); an order writes none.
    assert [e for e in store.tables.audit if e.actor_id != "sample-data"] == []
    assert store.commits == commits_before


@pytest.mark.parametrize(
    ("items", "error", "code"),
    [
        pytest.param([item(WINTER)], Conflict, "registration_closed", id="closed"),
        pytest.param([item(SUMMER)], Conflict, "registration_not_open", id="not-yet-open"),
        pytest.param([item("no-such-event")], InvalidRequest, "unknown_event", id="event"),
        pytest.param([item(SPRING, "spring-xyz")], InvalidRequest, "unknown_class", id="class"),
        pytest.param(
            [item(SPRING, "spring-spl", "spring-spl")],
            InvalidRequest,
            "duplicate_class",
            id="duplicate-class",
        ),
        pytest.param(
            [item(SPRING), item(WINTER)], Conflict, "registration_closed", id="second-item-closed"
        ),
        pytest.param([], InvalidRequest, "no_items", id="empty"),
    ],
)
def test_refused_orders_store_nothing(
    world: World, items: list[RegistrationItem], error: type[ServiceError], code: str
) -> None:
    commits = world.store.commits

    with pytest.raises(error) as raised:
        orders.create_order(
            uow=world.uow_factory(),
            buyer=BUYER,
            items=items,
            promo_code=None,
            fee_policy=FEE_POLICY,
            now=world.clock(),
            expires_in=EXPIRES_IN,
        )

    assert raised.value.code == code
    assert_nothing_stored(world.store, commits)


def test_closed_registration_names_the_event_and_item(world: World) -> None:
    with pytest.raises(Conflict) as raised:
        world.place_order(item(SPRING), item(WINTER))

    assert raised.value.details["item"] == 1
    assert raised.value.details["event_id"] == WINTER


def test_registration_closes_at_its_deadline_instant(world: World) -> None:
    spring = world.store.tables.events[SPRING]
    world.clock.now = spring.registration_closes_at - timedelta(microseconds=1)
    world.place_order(item(SPRING))
    world.clock.now = spring.registration_closes_at

    with pytest.raises(Conflict) as raised:
        world.place_order(item(SPRING))

    assert raised.value.code == "registration_closed"
    assert len(world.store.tables.orders) == 1


def test_an_unknown_promo_code_is_refused_rather_than_ignored(world: World) -> None:
    commits = world.store.commits

    with pytest.raises(InvalidRequest) as raised:
        world.place_order(item(SPRING), promo_code="SPRING11")

    assert raised.value.code == "unknown_promo_code"
    assert_nothing_stored(world.store, commits)


# ---------------------------------------------------------------------------- reading


def test_buyer_and_admin_can_read_the_order(world: World) -> None:
    placed = world.place_order()

    own = world.view(placed.order.id, caller=BUYER)
    as_admin = world.view(placed.order.id, caller=ADMIN)

    assert own.order.id == as_admin.order.id == placed.order.id
    assert own.status is OrderStatus.AWAITING_PAYMENT
    assert own.order.total == placed.order.total


def test_another_buyer_gets_the_same_not_found_as_for_a_missing_order(world: World) -> None:
    placed = world.place_order()

    with pytest.raises(NotFound) as foreign:
        world.view(placed.order.id, caller=STRANGER)
    with pytest.raises(NotFound) as missing:
        world.view("00000000-0000-0000-0000-000000000000", caller=STRANGER)

    assert foreign.value.code == missing.value.code == "order_not_found"
    assert foreign.value.message == missing.value.message
    assert set(foreign.value.details) == set(missing.value.details) == {"order_id"}


def test_an_unpaid_order_reads_as_expired_from_its_expiry_instant(world: World) -> None:
    placed = world.place_order()
    expires_at = placed.order.expires_at
    assert expires_at is not None

    world.clock.now = expires_at - timedelta(microseconds=1)
    assert world.view(placed.order.id).status is OrderStatus.AWAITING_PAYMENT
    world.clock.now = expires_at
    assert world.view(placed.order.id).status is OrderStatus.EXPIRED


def test_items_in_different_currencies_cannot_share_an_order(world: World) -> None:
    spring = world.store.tables.events[SPRING]
    euro_class = CompetitionClass(
        id="euro-spl",
        code="SPL",
        name="SPL",
        member_price=Money(3000, "eur"),
        non_member_price=Money(4000, "eur"),
    )
    euro_event = replace(spring, id="euro-open", currency="eur", classes=(euro_class,))
    catalog.add_event(
        uow_factory=world.uow_factory,
        organizer=sample_data.ORGANIZER,
        event=euro_event,
        now=world.clock(),
    )

    with pytest.raises(InvalidRequest) as raised:
        world.place_order(item(SPRING), RegistrationItem("euro-open", ("euro-spl",)))

    assert raised.value.code == "currency_mismatch"
    assert world.store.tables.orders == {}


# ---------------------------------------------------------------------------- platform fee policies

PARTNER_RATE = FeePolicy(percent=Decimal("4"), fixed_minor=20)  # an organizer's own
EVENT_RATE = FeePolicy(percent=Decimal("10"), fixed_minor=0, payer=FeePayer.BUYER)  # an event's
PARTNER = Organizer(id="org-partner", name="Partner Sound Club", fee_policy=PARTNER_RATE)


def add_spring_copy(
    world: World, event_id: str, *, organizer: Organizer, fee_policy: FeePolicy | None
) -> None:
    """An open event like spring (same prices and window) under `organizer`, with `fee_policy`;
    its classes are spring's, named after it (`<event_id>-spl`): class ids are unique."""
    spring = world.store.tables.events[SPRING]
    classes = tuple(replace(c, id=c.id.replace("spring", event_id, 1)) for c in spring.classes)
    copy = replace(
        spring, id=event_id, organizer_id=organizer.id, fee_policy=fee_policy, classes=classes
    )
    assert catalog.add_event(
        uow_factory=world.uow_factory, organizer=organizer, event=copy, now=world.clock()
    )


@pytest.fixture
def partner_world(world: World) -> World:
    """Spring under the platform's policy, plus two copies under an organizer with its own."""
    add_spring_copy(world, "partner-plain", organizer=PARTNER, fee_policy=None)
    add_spring_copy(world, "partner-special", organizer=PARTNER, fee_policy=EVENT_RATE)
    return world


@pytest.mark.parametrize(
    ("event_id", "platform_fee", "total"),
    [
        # The non-member early-bird SPL price is 4000 everywhere.
        pytest.param(SPRING, 4000 * 29 // 1000 + 30, 4000, id="platform-policy"),
        pytest.param("partner-plain", 160 + 20, 4000, id="organizer-wins-over-platform"),
        pytest.param("partner-special", 400, 4400, id="event-wins-over-organizer"),
    ],
)
def test_each_event_is_charged_under_the_most_specific_policy(
    partner_world: World, event_id: str, platform_fee: int, total: int
) -> None:
    view = partner_world.place_order(item(event_id, event_id.replace("-sound-off", "") + "-spl"))

    stored = partner_world.store.tables.orders[view.order.id]
    assert (stored.platform_fee, stored.total) == (platform_fee, total)
    assert stored.organizer_net == 4000 - (0 if event_id == "partner-special" else platform_fee)


def test_a_multi_event_order_charges_each_event_under_its_own_policy(partner_world: World) -> None:
    view = partner_world.place_order(
        item(SPRING, "spring-spl"),
        item("partner-plain", "partner-plain-spl"),
        item("partner-special", "partner-special-spl"),
    )

    stored = partner_world.store.tables.orders[view.order.id]
    # 116 + 30 (platform), 160 + 20 (organizer's), 400 (event's, paid by the buyer): each the
    # fee the event would have cost alone.
    assert stored.platform_fee == 146 + 180 + 400
    assert [(ln.kind, ln.amount) for ln in stored.lines] == [
        ("registration", 4000),
        ("registration", 4000),
        ("registration", 4000),
        ("fee", 400),
    ]
    assert (stored.subtotal, stored.fees, stored.total) == (12000, 400, 12400)
    assert stored.organizer_net == 12000 - 146 - 180
    created = partner_world.audit(view.order.id)[0]
    assert [
        (e["event_id"], e["subtotal"], e["fee"], e["percent"], e["fixed_minor"], e["payer"])
        for e in created.details["platform_fee_by_event"]
    ] == [
        (SPRING, 4000, 146, "2.9", 30, "organizer"),
        ("partner-plain", 4000, 180, "4", 20, "organizer"),
        ("partner-special", 4000, 400, "10", 0, "buyer"),
    ]


def test_a_placed_order_keeps_its_fee_when_the_policy_changes(partner_world: World) -> None:
    placed = partner_world.place_order(item("partner-plain", "partner-plain-spl"))
    events = partner_world.store.tables.events
    events["partner-plain"] = replace(events["partner-plain"], fee_policy=EVENT_RATE)

    again = partner_world.view(placed.order.id)
    later = partner_world.place_order(item("partner-plain", "partner-plain-spl"))

    stored = partner_world.store.tables.orders[placed.order.id]
    assert (stored.platform_fee, stored.total, stored.organizer_net) == (180, 4000, 3820)
    assert again.order.total == placed.order.total == 4000
    assert [ln.kind for ln in again.order.lines] == ["registration"]
    # Only orders placed after the change are charged under the new policy.
    assert (later.order.platform_fee, later.order.total) == (400, 4400)


def test_the_sample_summer_event_is_charged_its_own_rate(world: World) -> None:
    world.clock.now = world.seeded_at + 31 * DAY  # summer has opened, spring still open

    alone = world.place_order(item(SUMMER, "summer-sq"), buyer=MEMBER)
    both = world.place_order(item(SPRING, "spring-spl"), item(SUMMER, "summer-sq"), buyer=MEMBER)

    assert sample_data.SUMMER_FEE_POLICY.percent == Decimal("3.5")
    assert (alone.order.total, alone.order.platform_fee) == (4000, 140 + 25)
    # Totals are what they were before summer had its own policy; only the platform's share is
    # per event: spring's 4000 under 2.9 % + 30, summer's under 3.5 % + 25.
    assert both.order.total == 8000
    assert both.order.platform_fee == (116 + 30) + (140 + 25)
