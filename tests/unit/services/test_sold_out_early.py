"""The early `sold_out`: answered from two reads only when the full order path would answer it
too, with the same code, message and details; otherwise it stays out of the way."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from eventpay.ports import IdempotencyRecord, Principal
from eventpay.services import orders
from eventpay.services.basket_passes import PassItem
from eventpay.services.errors import Conflict

from .scenario import EXPIRES_IN, SPRING, World, item
from .test_places import LIMITED, buyer, limit


def early(world: World, *items: object, who: Principal, key: str | None = None) -> Conflict | None:
    return orders.sold_out_early(
        uow=world.uow_factory(), buyer=who, items=items, now=world.clock(), idempotency_key=key
    )


def full_refusal(world: World, *items: object, who: Principal) -> Conflict:
    with pytest.raises(Conflict) as refused:
        world.place_order(*items, buyer=who)
    return refused.value


def test_a_full_class_is_refused_early_exactly_as_the_full_path_refuses_it(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    wanted = (item(SPRING, "spring-spl"), item(SPRING, LIMITED))
    refusal = early(world, *wanted, who=buyer(2))
    assert refusal is not None
    expected = full_refusal(world, *wanted, who=buyer(2))
    assert (refusal.code, refusal.message, refusal.details) == (
        expected.code,
        expected.message,
        expected.details,
    )
    assert refusal.details["item"] == 1


def test_places_left_or_no_capacity_are_not_refused(world: World) -> None:
    assert early(world, item(SPRING, LIMITED), who=buyer(1)) is None  # no stock item: unlimited
    limit(world, 2)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    assert early(world, item(SPRING, LIMITED), who=buyer(2)) is None


def test_a_lapsed_reservation_leaves_the_answer_to_the_full_path(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    world.clock.advance(EXPIRES_IN)
    assert early(world, item(SPRING, LIMITED), who=buyer(2)) is None
    assert world.place_order(item(SPRING, LIMITED), buyer=buyer(2)).order.total > 0


def test_the_holders_own_reservation_may_give_way_so_it_is_not_refused_early(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    assert early(world, item(SPRING, LIMITED), who=buyer(1)) is None
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))  # supersedes the first


def test_a_key_with_a_stored_answer_goes_the_full_way_to_be_replayed(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    with world.uow_factory() as uow:
        uow.idempotency.insert_if_new(
            IdempotencyRecord(
                principal=buyer(2).user_id,
                key="k-1",
                fingerprint="f",
                created_at=world.clock(),
                locked_until=None,
                response_status=201,
                response_body="{}",
            )
        )
        uow.commit()
    assert early(world, item(SPRING, LIMITED), who=buyer(2), key="k-1") is None
    assert early(world, item(SPRING, LIMITED), who=buyer(2), key="k-2") is not None


def test_what_the_full_path_answers_otherwise_is_left_to_it(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    assert early(world, item(SPRING, LIMITED), item(SPRING, LIMITED), who=buyer(2)) is None
    assert early(world, item("no-such-event", LIMITED), who=buyer(2)) is None
    assert early(world, PassItem(SPRING, "day-pass", 1), who=buyer(2)) is None
    assert early(world, who=buyer(2)) is None


def test_a_closed_window_is_answered_by_the_full_path(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    with world.uow_factory() as uow:
        event = uow.catalog.get_event(SPRING)
    assert event is not None
    world.store.tables.events[SPRING] = replace(
        event, registration_closes_at=world.clock() - timedelta(seconds=1)
    )
    assert early(world, item(SPRING, LIMITED), who=buyer(2)) is None
    assert full_refusal(world, item(SPRING, LIMITED), who=buyer(2)).code == "registration_closed"


def test_another_bad_item_in_the_basket_is_left_to_the_full_path(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    assert early(world, item(SPRING, LIMITED, "no-such-class"), who=buyer(2)) is None
    assert early(world, item(SPRING, LIMITED), item(SPRING, "no-such-class"), who=buyer(2)) is None


def test_of_several_full_classes_the_same_one_is_named_as_by_the_full_path(world: World) -> None:
    limit(world, 1)
    limit(world, 1, "spring-spl")
    world.place_order(item(SPRING, LIMITED, "spring-spl"), buyer=buyer(1))
    wanted = (item(SPRING, LIMITED), item(SPRING, "spring-spl"))
    refusal = early(world, *wanted, who=buyer(2))
    assert refusal is not None
    expected = full_refusal(world, *wanted, who=buyer(2))
    assert (refusal.message, refusal.details) == (expected.message, expected.details)
