"""Refund requests at the service level: who gets what, and when places are freed."""

from __future__ import annotations

import pytest

from eventpay.domain import OrderStatus, RefundStatus
from eventpay.ports import Principal, ProviderRejected, RefundRecord
from eventpay.services import withdrawals
from eventpay.services.errors import InvalidRequest
from eventpay.services.refunds import execute_pending_refunds

from .scenario import ADMIN, BUYER, World
from .test_external_refunds import dashboard_refund, refund_event
from .test_refunds import _overpay


def _ask(
    world: World,
    order_id: str,
    *,
    caller: Principal = BUYER,
    amount: int | None = None,
    currency: str | None = None,
    reason: str = "test",
    request_key: str | None = None,
) -> list[RefundRecord]:
    return withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=caller,
        order_id=order_id,
        amount=amount,
        currency=currency,
        reason=reason,
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
        request_key=request_key,
    )


def _quote(world: World, order_id: str) -> withdrawals.WithdrawalQuote:
    return withdrawals.quote(
        uow=world.uow_factory(), caller=BUYER, order_id=order_id, now=world.clock()
    )


def test_a_duplicate_charge_refunded_at_the_dashboard_does_not_shrink_a_withdrawal(
    world: World,
) -> None:
    order_id, first_id, _ = _overpay(world)  # the first attempt is the duplicate
    total = world.view(order_id).order.total
    # Our automatic refund of the duplicate fails; the organizer refunds it in the dashboard.
    world.provider.fail_next(ProviderRejected("charge_not_refundable", "No."))
    execute_pending_refunds(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )
    duplicate = world.payment(first_id)
    world.deliver(refund_event("refund.created", dashboard_refund(duplicate)))
    world.process_all()

    quote = _quote(world, order_id)

    assert quote.quote.already_returned.amount == 0
    assert quote.quote.refundable.amount == total


def test_an_admin_refund_of_everything_frees_the_places_only_once_it_succeeds(
    world: World,
) -> None:
    order = world.place_order().order
    world.pay(order.id)
    world.provider.fail_next(ProviderRejected("charge_not_refundable", "Refused."))

    (refund,) = _ask(world, order.id, caller=ADMIN)

    assert refund.status is RefundStatus.FAILED
    view = world.view(order.id)
    assert view.status is OrderStatus.PAID
    assert [r.status.value for r in view.order.registrations] == ["confirmed"]

    (again,) = _ask(world, order.id, caller=ADMIN)

    assert again.status is RefundStatus.SUCCEEDED
    view = world.view(order.id)
    assert view.status is OrderStatus.REFUNDED
    assert [r.status.value for r in view.order.registrations] == ["cancelled"]


def test_a_competitor_withdrawal_frees_the_places_at_once(world: World) -> None:
    order = world.place_order().order
    world.pay(order.id)

    (refund,) = _ask(world, order.id)

    assert refund.kind == "customer"
    assert [r.status.value for r in world.view(order.id).order.registrations] == ["cancelled"]


def test_a_foreign_currency_is_refused_before_anything_else(world: World) -> None:
    order = world.place_order().order  # not paid: nothing to refund either
    with pytest.raises(InvalidRequest) as refused:
        _ask(world, order.id, amount=100, currency="eur")
    assert refused.value.code == "currency_mismatch"


def test_the_same_request_key_refunds_once_even_if_the_first_answer_was_lost(
    world: World,
) -> None:
    order = world.place_order().order
    world.pay(order.id)

    def ask() -> list[RefundRecord]:
        return _ask(
            world,
            order.id,
            caller=ADMIN,
            amount=1000,
            reason="goodwill",
            request_key="admin-1:refund-7",
        )

    first = ask()
    again = ask()  # the web layer lost the first answer and let the retry through

    assert [r.id for r in again] == [r.id for r in first]
    assert len(world.view(order.id).refunds) == 1
    assert len(world.provider.refunds) == 1
    other = _ask(
        world,
        order.id,
        caller=ADMIN,
        amount=1000,
        reason="another goodwill",
        request_key="admin-1:refund-8",
    )
    assert other[0].id != first[0].id
    assert len(world.view(order.id).refunds) == 2


def test_one_request_key_on_two_orders_makes_two_refunds(world: World) -> None:
    orders = [world.place_paid()[0].order for _ in range(2)]

    parts = [
        _ask(
            world,
            order.id,
            caller=ADMIN,
            amount=500,
            reason="goodwill",
            request_key="admin-1:same-key",
        )
        for order in orders
    ]

    assert [p[0].order_id for p in parts] == [o.id for o in orders]
    keys = {p[0].idempotency_key for p in parts}
    assert len(keys) == 2
    assert all(len(world.view(o.id).refunds) == 1 for o in orders)
