"""Team competitions: set up by the event's organizer, bought by a captain for their team, each
member's place in the team class held like any entry, team slots and team names counted as
places, the roster stored with the order and shown to its captain."""

from __future__ import annotations

from typing import Any

import pytest

from eventpay import sample_data
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import Principal, Role
from eventpay.services import teams, withdrawals
from eventpay.services.basket_teams import TeamItem
from eventpay.services.errors import Conflict, InvalidRequest, NotFound

from .scenario import ADMIN, SPRING, World, item

ORGANIZER = Principal(
    user_id="org-user", role=Role.ORGANIZER, organizer_id=sample_data.ORGANIZER.id
)
OTHER_ORGANIZER = Principal(user_id="other-org", role=Role.ORGANIZER, organizer_id="org-sundown")
TEAM_CLASS = "spring-sq"  # the sample catalog has no team class: SQ stands in for one


def configure(world: World, caller: Principal = ORGANIZER, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "class_id": TEAM_CLASS,
        "fee_mode": "team",
        "fee": 15000,
        "min_members": 2,
        "max_members": 4,
        "capacity": 10,
    }
    values.update(overrides)
    return teams.configure_teams(
        uow_factory=world.uow_factory,
        caller=caller,
        event_id=SPRING,
        asked=teams.TeamSetup(**values),
        now=world.clock(),
    )


def team(name: str = "Bass Heads", *members: str) -> TeamItem:
    return TeamItem(event_id=SPRING, name=name, members=members or ("mate-1", "mate-2"))


def test_the_organizer_sets_up_teams_and_anyone_reads_the_slots_left(world: World) -> None:
    view = configure(world)
    assert (view.capacity, view.slots_left, view.teams_entered) == (10, 10, 0)
    public = teams.get_team_competition(uow_factory=world.uow_factory, event_id=SPRING)
    assert public.terms.fee.amount == 15000
    assert public.terms.class_id == TEAM_CLASS
    (entry,) = [
        e
        for e in world.store.tables.audit
        if e.action == "event.teams_configured" and e.entity_id == SPRING
    ]
    assert entry.details["before"] is None
    assert entry.details["after"]["capacity"] == 10
    configure(world, capacity=None, fee=9000)
    again = teams.get_team_competition(uow_factory=world.uow_factory, event_id=SPRING)
    assert (again.capacity, again.slots_left, again.terms.fee.amount) == (None, None, 9000)


@pytest.mark.parametrize(
    "caller", [OTHER_ORGANIZER, Principal(user_id="competitor-9", role=Role.COMPETITOR)]
)
def test_another_organizer_or_a_competitor_gets_404(world: World, caller: Principal) -> None:
    with pytest.raises(NotFound) as refused:
        configure(world, caller=caller)
    assert refused.value.code == "event_not_found"


def test_an_event_without_teams_answers_404(world: World) -> None:
    with pytest.raises(NotFound) as refused:
        teams.get_team_competition(uow_factory=world.uow_factory, event_id=SPRING)
    assert refused.value.code == "teams_not_offered"
    with pytest.raises(NotFound):
        teams.get_team_competition(uow_factory=world.uow_factory, event_id="nope")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"class_id": "summer-spl"}, "class_id"),
        ({"fee_mode": "per_car"}, "fee_mode"),
        ({"fee": -5}, "fee"),
        ({"min_members": 5}, "max_members"),
        ({"fee_currency": "eur"}, "fee"),
        ({"capacity": -1}, "capacity"),
    ],
)
def test_bad_terms_are_422_naming_the_field(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        configure(world, **overrides)
    assert refused.value.details["field"] == field


def test_a_team_fee_is_charged_once_and_every_member_is_registered(world: World) -> None:
    configure(world)
    captain = world.new_buyer()
    order = world.place_order(team("Bass Heads", "mate-1", "mate-2"), buyer=captain).order
    (line,) = order.lines[:-1] if order.lines[-1].kind == "fee" else order.lines
    assert (line.kind, line.amount, line.event_id, line.class_id) == (
        "team",
        15000,
        SPRING,
        TEAM_CLASS,
    )
    assert [(r.competitor_id, r.class_ids) for r in order.registrations] == [
        (captain.user_id, [TEAM_CLASS]),
        ("mate-1", [TEAM_CLASS]),
        ("mate-2", [TEAM_CLASS]),
    ]
    (stored,) = world.store.tables.teams.teams.values()
    assert (stored.name, stored.captain_id, stored.order_id) == (
        "Bass Heads",
        captain.user_id,
        order.id,
    )
    assert [m.registration_id for m in stored.members] == [r.id for r in order.registrations]
    slots = teams.get_team_competition(uow_factory=world.uow_factory, event_id=SPRING)
    assert slots.slots_left == 9


def test_a_per_member_fee_is_one_line_per_member(world: World) -> None:
    configure(world, fee_mode="per_member", fee=4000)
    captain = world.new_buyer()
    order = world.place_order(team("Quad", "mate-1", "mate-2", "mate-3"), buyer=captain).order
    member_lines = [line for line in order.lines if line.kind == "team"]
    assert [line.amount for line in member_lines] == [4000] * 4
    assert member_lines[0].description.endswith(captain.user_id)
    assert order.subtotal == 16000


def test_paying_confirms_every_member_and_the_captain_sees_the_team(world: World) -> None:
    configure(world)
    captain = world.new_buyer()
    order = world.place_order(team(), buyer=captain).order
    (stored,) = world.store.tables.teams.teams.values()
    before = teams.get_team(uow_factory=world.uow_factory, caller=captain, team_id=stored.id)
    assert before.status is RegistrationStatus.PENDING
    world.pay(order.id, buyer=captain)
    after = teams.get_team(uow_factory=world.uow_factory, caller=captain, team_id=stored.id)
    assert after.status is RegistrationStatus.CONFIRMED
    assert set(after.member_status.values()) == {RegistrationStatus.CONFIRMED}
    mine = teams.list_my_teams(uow_factory=world.uow_factory, caller=captain, order_id=order.id)
    assert [t.team.id for t in mine] == [stored.id]
    admin = teams.get_team(uow_factory=world.uow_factory, caller=ADMIN, team_id=stored.id)
    assert admin.team.id == stored.id
    for stranger in (Principal(user_id="mate-1", role=Role.COMPETITOR), ORGANIZER):
        with pytest.raises(NotFound):
            teams.get_team(uow_factory=world.uow_factory, caller=stranger, team_id=stored.id)


def test_the_captain_is_a_member_even_when_left_out_and_counts_toward_the_size(
    world: World,
) -> None:
    configure(world, min_members=3, max_members=3)
    captain = world.new_buyer()
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(team("Duo", "mate-1"), buyer=captain)
    assert refused.value.code == "invalid_team_size"
    order = world.place_order(team("Trio", captain.user_id, "mate-1", "mate-2"), buyer=captain)
    assert len(order.order.registrations) == 3


def test_a_member_listed_twice_is_422(world: World) -> None:
    configure(world)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(team("Twins", "mate-1", "mate-1"), buyer=world.new_buyer())
    assert refused.value.code == "duplicate_member"
    assert refused.value.details["field"] == "members"


@pytest.mark.parametrize("name", ["", " " * 5, "x" * 81])
def test_a_team_needs_a_name_of_1_to_80_characters(world: World, name: str) -> None:
    configure(world)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(team(name), buyer=world.new_buyer())
    assert refused.value.details["field"] == "name"


def test_an_event_without_teams_refuses_team_items(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(team(), buyer=world.new_buyer())
    assert refused.value.code == "teams_not_offered"


def test_a_name_taken_at_the_event_is_409_whatever_its_case(world: World) -> None:
    configure(world)
    first = world.new_buyer()
    world.place_order(team("Bass Heads", "a-1", "a-2"), buyer=first)
    with pytest.raises(Conflict) as refused:
        world.place_order(team(" bass  HEADS", "b-1", "b-2"), buyer=world.new_buyer())
    assert refused.value.code == "team_name_taken"
    # The same captain trying again replaces their own unpaid order's reservation.
    again = world.place_order(team("Bass Heads", "a-1", "a-2"), buyer=first)
    world.pay(again.order.id, buyer=first)
    with pytest.raises(Conflict) as paid:
        world.place_order(team("Bass Heads", "c-1", "c-2"), buyer=first)
    assert paid.value.code == "team_name_taken"


def test_a_name_comes_free_again_when_its_order_lapses(world: World) -> None:
    configure(world)
    world.place_order(team("Bass Heads", "a-1", "a-2"), buyer=world.new_buyer())
    world.clock.advance(hours=2)  # past the reservation (scenario.EXPIRES_IN)
    placed = world.place_order(team("Bass Heads", "b-1", "b-2"), buyer=world.new_buyer())
    assert placed.order.registrations


def test_team_slots_are_never_oversold(world: World) -> None:
    configure(world, capacity=1)
    world.place_order(team("First", "a-1", "a-2"), buyer=world.new_buyer())
    with pytest.raises(Conflict) as refused:
        world.place_order(team("Second", "b-1", "b-2"), buyer=world.new_buyer())
    assert refused.value.code == "sold_out"
    assert refused.value.details["stock_id"] == f"team:{SPRING}"
    assert len(world.store.tables.teams.teams) == 1


def test_slots_cannot_shrink_below_the_teams_entered(world: World) -> None:
    configure(world, capacity=2)
    world.place_order(team("First", "a-1", "a-2"), buyer=world.new_buyer())
    world.place_order(team("Second", "b-1", "b-2"), buyer=world.new_buyer())
    with pytest.raises(Conflict) as refused:
        configure(world, capacity=1)
    assert refused.value.code == "capacity_below_taken"
    assert configure(world, capacity=2).slots_left == 0


def test_a_member_already_registered_in_the_class_is_refused(world: World) -> None:
    configure(world)
    member = world.new_buyer()
    entry = world.place_order(item(SPRING, TEAM_CLASS), buyer=member)
    world.pay(entry.order.id, buyer=member)
    with pytest.raises(Conflict) as refused:
        world.place_order(team("Late", member.user_id, "mate-9"), buyer=world.new_buyer())
    assert refused.value.code == "already_registered"


def test_a_member_reserved_by_another_buyers_unpaid_order_is_refused(world: World) -> None:
    configure(world)
    world.place_order(team("First", "shared-mate", "a-2"), buyer=world.new_buyer())
    with pytest.raises(Conflict) as refused:
        world.place_order(team("Second", "shared-mate", "b-2"), buyer=world.new_buyer())
    assert refused.value.code == "already_registered"


def test_a_refund_cancels_the_team_and_frees_its_name_and_slot(world: World) -> None:
    configure(world, capacity=1)
    captain = world.new_buyer()
    order = world.place_order(team("Bass Heads", "a-1", "a-2"), buyer=captain).order
    world.pay(order.id, buyer=captain)
    withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=ADMIN,
        order_id=order.id,
        amount=None,
        reason="team withdrew",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )
    world.process_all()
    (stored,) = world.store.tables.teams.teams.values()
    view = teams.get_team(uow_factory=world.uow_factory, caller=captain, team_id=stored.id)
    assert view.status is RegistrationStatus.CANCELLED
    again = world.place_order(team("Bass Heads", "a-1", "a-2"), buyer=world.new_buyer())
    assert len(again.order.registrations) == 3


def test_the_demo_seeds_a_team_competition_buyers_can_enter(world: World) -> None:
    seeded = teams.get_team_competition(
        uow_factory=world.uow_factory, event_id=sample_data.TEAM_EVENT
    )
    assert (seeded.terms.fee_mode.value, seeded.capacity) == ("per_member", 12)
    entry = TeamItem(sample_data.TEAM_EVENT, "Demo Crew", ("demo-mate",))
    order = world.place_order(entry, buyer=world.new_buyer()).order
    assert [line.amount for line in order.lines if line.kind == "team"] == [3000, 3000]


def test_terms_left_without_their_slots_refuse_team_items(world: World) -> None:
    configure(world)
    del world.store.tables.stock[f"team:{SPRING}"]  # as an event deleted and created again
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(team(), buyer=world.new_buyer())
    assert refused.value.code == "teams_not_offered"


def test_a_closed_event_refuses_teams_with_409(world: World) -> None:
    teams.configure_teams(
        uow_factory=world.uow_factory,
        caller=ADMIN,
        event_id="winter-warm-up",
        asked=teams.TeamSetup("winter-sq", "team", 5000, 2, 3),
        now=world.clock(),
    )
    entry = TeamItem("winter-warm-up", "Frost", ("mate-1",))
    with pytest.raises(Conflict) as refused:
        world.place_order(entry, buyer=world.new_buyer())
    assert refused.value.code == "registration_closed"
