"""Consequences of a success: over-payment and amount mismatches are recorded, never hidden."""

from __future__ import annotations

from eventpay.domain import OrderStatus, PaymentStatus
from eventpay.domain.orders import RegistrationStatus

from .scenario import World


def two_attempts(world: World) -> tuple[str, tuple[str, str], tuple[str, str]]:
    """An order with two open attempts: the first declined, then a second one started.

    Returns (order id, (first payment id, ref), (second payment id, ref)).
    """
    order = world.place_order().order
    first = world.start(order.id)
    first_ref = first.payment.provider_ref
    assert first_ref is not None
    world.deliver(world.report(first_ref, PaymentStatus.FAILED))
    world.process_all()
    world.clock.advance(minutes=5)
    second = world.start(order.id)
    second_ref = second.payment.provider_ref
    assert second_ref is not None
    assert second.payment.id != first.payment.id
    return order.id, (first.payment.id, first_ref), (second.payment.id, second_ref)


def test_a_second_success_on_a_paid_order_is_recorded_as_overpaid(world: World) -> None:
    order_id, (first_id, first_ref), (second_id, second_ref) = two_attempts(world)
    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    assert world.view(order_id).status is OrderStatus.PAID

    # The buyer retried the declined intent too, and it went through.
    world.deliver(world.report(first_ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    assert world.payment(first_id).status is PaymentStatus.SUCCEEDED
    assert world.payment(second_id).status is PaymentStatus.SUCCEEDED
    view = world.view(order_id)
    total = view.order.total
    assert view.summary.paid.amount == 2 * total
    assert view.summary.overpaid.amount == total
    overpaid = [e for e in world.audit(order_id) if e.action == "order.overpaid"]
    assert len(overpaid) == 1
    assert overpaid[0].payment_id == first_id
    assert overpaid[0].details["overpaid"] == total
    assert world.count(order_id, "payment.succeeded") == 2
    assert world.count(order_id, "order.paid") == 1
    assert world.count(order_id, "registration.confirmed") == 1


def test_the_first_success_of_two_attempts_is_not_an_overpayment(world: World) -> None:
    order_id, _, (_, second_ref) = two_attempts(world)

    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    assert world.count(order_id, "order.overpaid") == 0
    assert world.count(order_id, "order.paid") == 1


def test_an_amount_mismatch_is_audited(world: World) -> None:
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    event = world.report(ref, PaymentStatus.SUCCEEDED, amount=order.total + 500)
    world.deliver(event)

    world.process_all()

    (mismatch,) = [e for e in world.audit(order.id) if e.action == "payment.amount_mismatch"]
    assert mismatch.payment_id == start.payment.id
    assert mismatch.details["expected"] == order.total
    assert mismatch.details["provider_amount"] == order.total + 500
    assert mismatch.details["provider_currency"] == "usd"
    assert mismatch.details["event_id"] == event["id"]


def test_a_matching_amount_is_not_audited_as_a_mismatch(world: World) -> None:
    order = world.place_order().order

    world.pay(order.id)

    assert world.count(order.id, "payment.amount_mismatch") == 0


def test_a_success_for_less_than_the_order_total_does_not_pay_the_order(world: World) -> None:
    """The provider says 1 cent arrived for a 40.00 order: the registrations must stay pending."""
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED, amount=1, amount_received=1))

    world.process_all()

    assert world.count(order.id, "payment.amount_mismatch") == 1
    view = world.view(order.id)
    assert view.status is not OrderStatus.PAID
    assert [r.status for r in view.order.registrations] == [RegistrationStatus.PENDING]


def test_a_full_payment_after_a_short_one_pays_the_order_and_returns_the_excess(
    world: World,
) -> None:
    """1 cent arrived on one attempt, the full total on another: paid, and 1 cent goes back."""
    order_id, (_short_id, short_ref), (full_id, full_ref) = two_attempts(world)
    world.deliver(world.report(short_ref, PaymentStatus.SUCCEEDED, amount=1, amount_received=1))
    world.process_all()
    assert world.view(order_id).status is OrderStatus.AWAITING_PAYMENT

    world.deliver(world.report(full_ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    view = world.view(order_id)
    assert view.status is OrderStatus.PAID
    assert [r.status for r in view.order.registrations] == [RegistrationStatus.CONFIRMED]
    (refund,) = view.refunds
    assert (refund.payment_id, refund.amount, refund.kind) == (full_id, 1, "overpayment")
    assert "exceed the order total" in refund.reason
    assert world.count(order_id, "order.paid") == 1
    assert world.count(order_id, "order.overpaid") == 1
