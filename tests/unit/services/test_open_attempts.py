"""The janitor closes card attempts that could still be paid although the order needs no money."""

from __future__ import annotations

from eventpay.domain import OrderStatus, PaymentStatus, RefundStatus
from eventpay.ports import ProviderOutcomeUnknown, ProviderRejected
from eventpay.services.open_attempts import close_superseded

from .scenario import World
from .test_settlement import two_attempts


def _sweep(world: World) -> int:
    return close_superseded(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )


def test_a_declined_intent_left_open_is_cancelled_once_another_attempt_paid(world: World) -> None:
    order_id, (first_id, first_ref), (_, second_ref) = two_attempts(world)
    # The first intent was declined: at Stripe it waits for another card, still payable.
    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    assert _sweep(world) == 1

    assert world.provider.intents[first_ref]["status"] == "canceled"
    assert world.payment(first_id).status is PaymentStatus.CANCELED
    (row,) = [e for e in world.audit(order_id) if e.action == "payment.canceled"]
    assert row.details["source"] == "superseded"
    assert _sweep(world) == 0  # nothing left open
    assert world.view(order_id).status is OrderStatus.PAID


def test_open_attempts_of_orders_still_awaiting_payment_are_left_alone(world: World) -> None:
    order_id, (first_id, first_ref), (second_id, second_ref) = two_attempts(world)

    assert _sweep(world) == 0

    assert world.provider.intents[first_ref]["status"] == "requires_payment_method"
    assert world.provider.intents[second_ref]["status"] == "requires_payment_method"
    assert world.payment(second_id).status is PaymentStatus.CREATED
    assert world.payment(first_id).status is PaymentStatus.FAILED
    assert world.view(order_id).status is OrderStatus.AWAITING_PAYMENT


def test_an_intent_that_succeeded_meanwhile_is_settled_as_an_overpayment(world: World) -> None:
    order_id, (first_id, first_ref), (_, second_ref) = two_attempts(world)
    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    # The other tab paid a moment ago; its webhook has not arrived. Stripe refuses the cancel.
    world.provider.set_status(first_ref, PaymentStatus.SUCCEEDED)
    world.provider.fail_next(ProviderRejected("payment_intent_unexpected_state", "Succeeded."))

    assert _sweep(world) == 0

    assert world.payment(first_id).status is PaymentStatus.SUCCEEDED
    (refund,) = world.view(order_id).refunds
    assert (refund.payment_id, refund.status, refund.kind) == (
        first_id,
        RefundStatus.PENDING,
        "overpayment",
    )


def test_a_lost_cancel_answer_is_repeated_with_the_same_key(world: World) -> None:
    order_id, (first_id, first_ref), (_, second_ref) = two_attempts(world)
    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    world.provider.fail_next(ProviderOutcomeUnknown("timeout", "no answer"), took_effect=True)

    assert _sweep(world) == 0
    assert world.payment(first_id).status is PaymentStatus.FAILED  # not known yet
    assert _sweep(world) == 0  # asked again only after the backoff's first minute

    world.clock.advance(minutes=1)
    assert _sweep(world) == 1
    assert world.payment(first_id).status is PaymentStatus.CANCELED
    assert world.provider.intents[first_ref]["status"] == "canceled"
    assert world.view(order_id).refunds == []
