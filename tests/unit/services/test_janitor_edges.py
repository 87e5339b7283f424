"""Edges a review of the janitor found: each test failed on the code before its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.domain import OrderStatus, PaymentStatus, RefundStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import (
    PaymentRecord,
    ProviderOutcomeUnknown,
    ProviderRefundStatus,
    ProviderRejected,
)
from eventpay.services import janitor, withdrawals
from eventpay.services.errors import InvalidRequest

from .scenario import ADMIN, BUYER, World, registration_statuses
from .test_janitor import _force_status, _paid_orders, _refund, _refund_row, _send

LOST = ProviderOutcomeUnknown("timeout", "the answer was lost")


def test_a_refused_read_past_the_key_window_never_fails_the_refund(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    refund_id = _refund(world, payment, amount=500)
    world.provider.fail_next(LOST, took_effect=True)  # made at the provider, answer lost
    _send(world)
    world.clock.advance(hours=30)
    world.provider.forget_keys()
    world.provider.fail_next(ProviderRejected("resource_missing", "No such payment_intent"))

    assert _send(world) == 0

    assert _refund_row(world, refund_id).status is RefundStatus.PENDING  # was: failed
    assert world.count(payment.order_id, "refund.deferred") == 1
    assert world.count(payment.order_id, "order.withdrawal_refund_failed") == 0
    world.clock.advance(minutes=5)  # the second check that settled nothing: 5 minutes
    assert _send(world) == 1  # the read works again: the refund is adopted, not made twice
    assert len(world.provider.all_refunds()) == 1
    assert _refund_row(world, refund_id).status is RefundStatus.SUCCEEDED


def test_a_refund_that_stays_pending_is_read_less_and_less_often(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    world.provider.refund_status = ProviderRefundStatus.PENDING
    refund_id = _refund(world, payment)
    _send(world)  # acknowledged: first read after a minute
    gaps = []
    for _ in range(4):
        world.clock.advance(_refund_row(world, refund_id).next_check_at - world.clock())
        assert _send(world) == 1
        gaps.append(_refund_row(world, refund_id).next_check_at - world.clock())

    # was: every minute, for ever
    assert gaps == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(hours=1),
        timedelta(days=1),
    ]


def test_a_withdrawal_split_over_two_payments_keeps_the_places_if_one_part_is_refused(
    world: World,
) -> None:
    order = world.place_order().order
    first = world.start(order.id).payment
    assert first.provider_ref is not None
    world.deliver(world.report(first.provider_ref, PaymentStatus.SUCCEEDED, amount_received=1000))
    world.process_all()
    world.pay(order.id)  # the balance, by a second attempt
    assert world.view(order.id).status is OrderStatus.PAID
    world.provider.intents[first.provider_ref]["amount_received"] = 0  # its refund is refused

    refunds = withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=BUYER,
        order_id=order.id,
        amount=None,
        reason="cannot come",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )

    assert sorted(r.status.value for r in refunds) == ["failed", "succeeded"]
    assert len({r.request_id for r in refunds}) == 1
    view = world.view(order.id)
    assert registration_statuses(view) == [RegistrationStatus.CONFIRMED.value]  # was: freed


def test_a_refund_the_provider_cannot_send_is_refused_when_asked_and_quotes_round_down(
    world: World,
) -> None:
    (payment,) = _paid_orders(world, 1)
    world.provider.steps = {"usd": 1000}  # as Stripe takes KWD only in steps of 10 fils

    with pytest.raises(InvalidRequest) as refused:
        withdrawals.request(
            uow_factory=world.uow_factory,
            providers=world.providers,
            caller=ADMIN,
            order_id=payment.order_id,
            amount=1234,
            reason="goodwill",
            method=withdrawals.RefundMethod.ORIGINAL,
            clock=world.clock,
        )
    assert refused.value.code == "refund_amount_not_supported"
    assert world.view(payment.order_id).refunds == []  # nothing recorded, nothing sent

    quote = withdrawals.quote(
        uow=world.uow_factory(),
        caller=BUYER,
        order_id=payment.order_id,
        now=world.clock(),
        providers=world.providers,
    )
    assert quote.quote.refundable.amount % 1000 == 0
    assert quote.quote.refundable.amount > quote.quote.by_terms.amount - 1000


def test_a_card_payment_whose_success_webhook_was_lost_is_read_and_pays_the_order(
    world: World,
) -> None:
    order_id = world.place_order().order.id
    started = world.start(order_id)
    ref = started.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.PROCESSING))
    world.process_all()
    world.provider.set_status(ref, PaymentStatus.SUCCEEDED)  # its webhook never arrives

    read = janitor.read_in_flight(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )

    assert read == 1
    assert world.view(order_id).status is OrderStatus.PAID  # was: processing for ever


def test_an_attempt_waiting_in_the_browser_is_read_while_it_may_still_be_paid(
    world: World,
) -> None:
    order_id = world.place_order().order.id
    started = world.start(order_id)
    ref = started.payment.provider_ref
    assert ref is not None
    kwargs = {"uow_factory": world.uow_factory, "providers": world.providers}
    assert janitor.read_in_flight(clock=world.clock, **kwargs) == 0  # not due in its 1st minute
    world.clock.advance(minutes=1)
    assert janitor.read_in_flight(clock=world.clock, **kwargs) == 1  # still with the buyer
    world.provider.set_status(ref, PaymentStatus.SUCCEEDED)  # paid; the event is lost
    world.clock.advance(minutes=1)

    assert janitor.read_in_flight(clock=world.clock, **kwargs) == 1

    assert world.view(order_id).status is OrderStatus.PAID
    world.clock.advance(days=4)  # an abandoned checkout is not read for ever
    other = world.start(world.place_order(buyer=world.new_buyer()).order.id).payment
    world.clock.advance(days=4)
    assert world.payment(other.id).status is PaymentStatus.CREATED
    assert janitor.read_in_flight(clock=world.clock, **kwargs) == 0


def test_one_item_failing_unexpectedly_does_not_stop_the_task(world: World) -> None:
    stuck: list[PaymentRecord] = []
    for _ in range(3):
        order_id = world.place_order().order.id
        started = world.start(order_id)
        _force_status(world, started.payment.id, PaymentStatus.UNKNOWN)
        stuck.append(started.payment)
    world.store.fail_on("audit.add", RuntimeError("the database went away mid-batch"))

    resolved = janitor.resolve_unknown(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )  # was: the RuntimeError escaped and the rest of the batch was skipped

    assert resolved == 0
    after = [world.payment(p.id) for p in stuck]
    assert all(p.next_check_at and p.next_check_at > world.clock() for p in after)
    world.store.clear_faults()
    world.clock.advance(minutes=1)
    assert (
        janitor.resolve_unknown(
            uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
        )
        == 3
    )


def test_a_create_the_provider_refuses_for_good_fails_the_attempt(world: World) -> None:
    order_id = world.place_order().order.id
    world.provider.fail_next(LOST)  # never arrived
    with pytest.raises(Exception, match="did not answer"):
        world.start(order_id)
    (payment,) = world.store.payments
    world.provider.fail_next(ProviderRejected("amount_too_large", "Amount too large."))

    janitor.resolve_unknown(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )

    failed = world.payment(payment.id)
    assert failed.status is PaymentStatus.FAILED  # was: unknown, asked again daily for ever
    assert failed.failure_code == "amount_too_large"
