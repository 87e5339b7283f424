"""Places: capacity, reservations, one entry per competitor and class, late payments.

The service tests run on the in-memory fakes; the same rules under real concurrency are in
tests/integration/test_places_concurrency.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from eventpay.domain import PaymentStatus, RefundKind
from eventpay.domain.places import class_stock_id
from eventpay.ports import SYSTEM_ACTOR, Principal, Role
from eventpay.services import catalog, janitor, reservations
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.settlement import places

from .scenario import ADMIN, EXPIRES_IN, SPRING, World, item

LIMITED = "spring-sq"  # given a capacity by `limit`


def buyer(n: int) -> Principal:
    return Principal(user_id=f"competitor-p{n}", role=Role.COMPETITOR)


def limit(world: World, capacity: int, class_id: str = LIMITED) -> None:
    """Give one sample class a capacity, as an organizer's edit would."""
    with world.uow_factory() as uow:
        assert uow.places.ensure_stock(
            class_stock_id(class_id), event_id=SPRING, kind="class", capacity=capacity
        )
        event = uow.catalog.get_event(SPRING)
        assert event is not None
        classes = tuple(
            replace(c, capacity=capacity) if c.id == class_id else c for c in event.classes
        )
        world.store.tables.events[SPRING] = replace(event, classes=classes)
        uow.commit()


def left(world: World, class_id: str = LIMITED) -> int | None:
    _, places_left = catalog.get_event_with_places(uow_factory=world.uow_factory, event_id=SPRING)
    return places_left[class_id]


def place_statuses(world: World, order_id: str) -> list[str]:
    return sorted(
        p.status.value for p in world.store.tables.places.values() if p.order_id == order_id
    )


def test_an_order_reserves_its_places_until_it_expires(world: World) -> None:
    limit(world, 3)
    view = world.place_order(item(SPRING, "spring-spl", LIMITED), buyer=buyer(1))
    assert view.order.expires_at == world.clock() + EXPIRES_IN
    assert left(world) == 2
    assert left(world, "spring-spl") is None  # no capacity: no limit
    assert place_statuses(world, view.order.id) == ["held", "held"]


def test_the_buyer_after_the_last_place_is_told_sold_out_before_paying(world: World) -> None:
    limit(world, 2)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    world.place_order(item(SPRING, LIMITED), buyer=buyer(2))
    with pytest.raises(Conflict) as refused:
        world.place_order(item(SPRING, LIMITED), buyer=buyer(3))
    assert refused.value.code == "sold_out"
    assert refused.value.details["places_left"] == 0
    assert left(world) == 0
    assert not [o for o in world.store.tables.orders.values() if o.buyer_id == "competitor-p3"]


def test_a_sold_out_class_refuses_the_whole_order_and_takes_nothing(world: World) -> None:
    limit(world, 1)
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    limit(world, 5, "spring-spl")
    with pytest.raises(Conflict):
        world.place_order(item(SPRING, "spring-spl", LIMITED), buyer=buyer(2))
    assert left(world, "spring-spl") == 5  # the SPL place taken first was given back


def test_payment_confirms_the_places(world: World) -> None:
    limit(world, 1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    world.pay(order.id, buyer=buyer(1))
    assert place_statuses(world, order.id) == ["confirmed"]
    world.clock.advance(EXPIRES_IN * 3)
    assert janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock) == 0
    assert left(world) == 0


def test_expired_reservations_are_released_by_the_janitor(world: World) -> None:
    limit(world, 1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    world.clock.advance(EXPIRES_IN - timedelta(seconds=1))
    assert janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock) == 0
    world.clock.advance(seconds=1)
    assert janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock) == 1
    assert left(world) == 1
    assert place_statuses(world, order.id) == ["released"]
    assert "order.places_released" in world.actions(order.id)
    assert janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock) == 0


def test_an_expired_reservation_not_yet_swept_does_not_block_the_next_buyer(world: World) -> None:
    limit(world, 1)
    first = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    world.clock.advance(EXPIRES_IN)
    second = world.place_order(item(SPRING, LIMITED), buyer=buyer(2)).order
    assert place_statuses(world, first.id) == ["released"]
    assert place_statuses(world, second.id) == ["held"]
    assert left(world) == 0


def test_the_same_class_twice_in_one_order_is_refused(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(item(SPRING, "spring-spl"), item(SPRING, "spring-spl"), buyer=buyer(1))
    assert refused.value.code == "duplicate_registration"
    assert refused.value.details["item"] == 1
    assert refused.value.details["first_item"] == 0
    assert refused.value.details["holder"] == "competitor-p1"


def test_a_class_already_paid_for_is_refused_across_orders(world: World) -> None:
    paid = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1)).order
    world.pay(paid.id, buyer=buyer(1))
    with pytest.raises(Conflict) as refused:
        world.place_order(item(SPRING, "spring-spl", LIMITED), buyer=buyer(1))
    assert refused.value.code == "already_registered"
    assert refused.value.details["order_id"] == paid.id
    # Another competitor may still enter the class.
    world.place_order(item(SPRING, "spring-spl"), buyer=buyer(2))


def test_a_new_order_supersedes_the_same_buyers_unpaid_reservation(world: World) -> None:
    limit(world, 1)
    abandoned = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    again = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    assert place_statuses(world, abandoned.id) == ["released"]
    assert place_statuses(world, again.id) == ["held"]
    assert left(world) == 0
    assert "order.places_released" in world.actions(abandoned.id)


def test_a_payment_after_expiry_is_honoured_while_places_remain(world: World) -> None:
    limit(world, 2)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    started = world.start(order.id, buyer=buyer(1)).payment
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert left(world) == 2
    assert started.provider_ref is not None
    world.deliver(world.report(started.provider_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    assert world.view(order.id).status.value == "paid"
    assert "confirmed" in place_statuses(world, order.id)
    assert left(world) == 1
    assert [r.status.value for r in world.view(order.id).order.registrations] == ["confirmed"]
    assert not world.view(order.id).refunds


def test_a_payment_after_expiry_is_refunded_when_the_places_were_sold(world: World) -> None:
    limit(world, 1)
    late = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    started = world.start(late.id, buyer=buyer(1)).payment
    world.clock.advance(EXPIRES_IN)
    other = world.place_order(item(SPRING, LIMITED), buyer=buyer(2)).order  # sweeps, takes it
    world.pay(other.id, buyer=buyer(2))
    assert started.provider_ref is not None
    world.deliver(world.report(started.provider_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    view = world.view(late.id)
    (refund,) = view.refunds
    assert RefundKind(refund.kind) is RefundKind.SOLD_OUT
    assert refund.amount == late.total
    assert "sold out" in refund.reason
    assert "order.places_gone" in world.actions(late.id)
    assert [r.status.value for r in view.order.registrations] == ["cancelled"]
    assert left(world) == 0
    assert place_statuses(world, other.id) == ["confirmed"]


def test_a_refund_gives_the_places_back(world: World) -> None:
    limit(world, 1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    payment = world.pay(order.id, buyer=buyer(1))
    with world.uow_factory() as uow:
        places.release(uow, order.id, now=world.clock())
        uow.commit()
    assert left(world) == 1
    assert payment.status is PaymentStatus.SUCCEEDED


def test_the_sandbox_clock_expires_an_order_now_for_admins_only(world: World) -> None:
    limit(world, 1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    with pytest.raises(NotFound):
        reservations.expire_order(
            uow_factory=world.uow_factory, caller=buyer(1), order_id=order.id, clock=world.clock
        )
    released = reservations.expire_order(
        uow_factory=world.uow_factory, caller=ADMIN, order_id=order.id, clock=world.clock
    )
    assert released == 1
    assert world.view(order.id).status.value == "expired"
    assert left(world) == 1


def test_releasing_twice_gives_back_once(world: World) -> None:
    limit(world, 1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    for _ in range(2):
        with world.uow_factory() as uow:
            places.release(uow, order.id, now=world.clock())
            uow.commit()
    assert left(world) == 1
    swept = places.sweep_expired(world.uow_factory, actor=SYSTEM_ACTOR, now=world.clock())
    assert swept == 0


def test_a_superseded_order_cannot_be_paid_any_more(world: World) -> None:
    abandoned = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))
    with pytest.raises(Conflict) as refused:
        world.start(abandoned.id, buyer=buyer(1))
    assert refused.value.code == "order_superseded"
    assert refused.value.details == {"released": [class_stock_id(LIMITED)]}


# Found in review: each of these failed before its fix.


def _code(world: World, **terms: object) -> None:
    from decimal import Decimal

    from eventpay.services import promo_codes

    asked = promo_codes.PromoCodeInput(
        code="BASS",
        percent_off=Decimal(str(terms.pop("percent_off"))),
        **terms,  # type: ignore[arg-type]
    )
    promo_codes.create_promo_code(
        uow_factory=world.uow_factory, caller=ADMIN, event_id=SPRING, asked=asked, now=world.clock()
    )


def _uses(world: World) -> int:
    (promo,) = [p for p in world.store.tables.promos.codes.values() if p.code == "BASS"]
    return promo.uses


def test_a_free_order_keeps_its_place_and_code_use_after_its_expiry(world: World) -> None:
    limit(world, 1)
    _code(world, percent_off=100, max_uses=1)
    order = world.place_order(item(SPRING, LIMITED), buyer=buyer(1), promo_code="BASS").order
    assert order.total == 0
    assert [r.status.value for r in world.view(order.id).order.registrations] == ["confirmed"]
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert place_statuses(world, order.id) == ["confirmed"]
    assert left(world) == 0
    assert _uses(world) == 1


def test_a_superseded_order_gives_its_code_use_back_when_it_expires(world: World) -> None:
    _code(world, percent_off=15, max_uses=1)
    first = world.place_order(item(SPRING, LIMITED), buyer=buyer(1), promo_code="BASS").order
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))  # supersedes `first`
    assert _uses(world) == 1
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert world.view(first.id).status.value == "expired"
    assert _uses(world) == 0
    assert "order.promo_code_released" in world.actions(first.id)


def test_a_late_payment_counts_its_code_use_again_or_says_it_went_over(world: World) -> None:
    _code(world, percent_off=15, max_uses=1)
    first = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code="BASS")
    started = world.start(first.order.id, buyer=buyer(1)).payment
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert _uses(world) == 0
    second = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(2), promo_code="BASS")
    world.pay(second.order.id, buyer=buyer(2))
    assert started.provider_ref is not None
    world.deliver(world.report(started.provider_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    # The late buyer paid the price they were quoted; the count never passes the limit.
    assert world.view(first.order.id).status.value == "paid"
    assert _uses(world) == 1
    assert "order.promo_code_honoured_over_limit" in world.actions(first.order.id)


def test_a_late_payment_takes_its_code_use_again_when_one_is_left(world: World) -> None:
    _code(world, percent_off=15, max_uses=2)
    first = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code="BASS")
    started = world.start(first.order.id, buyer=buyer(1)).payment
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert started.provider_ref is not None
    world.deliver(world.report(started.provider_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    assert _uses(world) == 1
    assert "order.promo_code_reclaimed" in world.actions(first.order.id)
    world.clock.advance(EXPIRES_IN * 4)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert _uses(world) == 1  # a paid order's use is kept for good


def test_every_place_a_lost_late_order_releases_is_audited(world: World) -> None:
    late = world.place_order(item(SPRING, "spring-spl", LIMITED), buyer=buyer(1)).order
    started = world.start(late.id, buyer=buyer(1)).payment
    world.place_order(item(SPRING, LIMITED), buyer=buyer(1))  # supersedes its SQ place
    limit(world, 1)  # ... and SQ is full now
    assert started.provider_ref is not None
    world.deliver(world.report(started.provider_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    assert "order.places_gone" in world.actions(late.id)
    assert place_statuses(world, late.id) == ["released", "released"]
    audited = {
        p["stock_id"]
        for e in world.audit(late.id)
        if e.action == "order.places_released"
        for p in e.details["places"]
    }
    assert audited == {class_stock_id("spring-spl"), class_stock_id(LIMITED)}


def test_an_over_payment_whose_places_are_gone_is_refunded_once_in_full(world: World) -> None:
    limit(world, 1)
    late = world.place_order(item(SPRING, LIMITED), buyer=buyer(1)).order
    started = world.start(late.id, buyer=buyer(1)).payment
    world.clock.advance(EXPIRES_IN)
    other = world.place_order(item(SPRING, LIMITED), buyer=buyer(2)).order
    world.pay(other.id, buyer=buyer(2))
    assert started.provider_ref is not None
    received = late.total + 500
    world.deliver(
        world.report(started.provider_ref, PaymentStatus.SUCCEEDED, amount_received=received)
    )
    world.process_all()
    refunds = world.view(late.id).refunds
    assert sum(r.amount for r in refunds) == received
    assert [RefundKind(r.kind) for r in refunds] == [RefundKind.SOLD_OUT]
