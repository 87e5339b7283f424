"""The janitor never stalls and never sends twice (issue: harden the money core).

Each test stacks more stuck items than one run's batch in front of the item that needs work,
or lets the provider forget an idempotency key before the janitor repeats a request. On the
code before the fix each of them failed: the janitor loaded the oldest N items and dropped
the ones it could not act on in Python, read only `unknown` attempts, never polled pending
refunds, and re-sent a request with its old key whatever its age.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.domain import OrderStatus, PaymentStatus, RefundStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import (
    PaymentRecord,
    ProviderMisconfigured,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRefundStatus,
)
from eventpay.services import janitor, withdrawals
from eventpay.services.errors import Unavailable
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import request_refund

from .fakes import FakeProvider
from .scenario import BUYER, World, registration_statuses

LOST = ProviderOutcomeUnknown("timeout", "the answer was lost")


def _paid_orders(world: World, n: int) -> list[PaymentRecord]:
    """`n` paid orders for one class, each by its own buyer, the first by `BUYER`."""
    buyers = [BUYER, *(world.new_buyer() for _ in range(n - 1))]
    return [world.pay(world.place_order(buyer=b).order.id) for b in buyers]


def _refund(world: World, payment: PaymentRecord, amount: int = 100) -> str:
    with world.uow_factory() as uow:
        refund = request_refund(
            uow,
            payment=payment,
            amount=amount,
            kind="operator",
            reason="test",
            actor="test",
            now=world.clock(),
        )
        uow.commit()
    return refund.id


def _send(world: World, *, limit: int = 50) -> int:
    return execute_pending_refunds(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock, limit=limit
    )


def _refund_row(world: World, refund_id: str):  # type: ignore[no-untyped-def]
    return world.store.tables.refunds[refund_id]


# ---------------------------------------------------------------------------- refunds


def test_an_unsent_refund_is_sent_behind_more_acknowledged_pending_ones_than_a_batch(
    world: World,
) -> None:
    payments = _paid_orders(world, 21)
    world.provider.refund_status = ProviderRefundStatus.PENDING
    stuck = [_refund(world, p) for p in payments[:20]]
    assert _send(world, limit=20) == 20  # acknowledged by the provider, still pending
    world.clock.advance(minutes=2)  # the acknowledged ones are due for a read again
    unsent = _refund(world, payments[20])

    for _ in range(3):
        _send(world, limit=20)

    assert _refund_row(world, unsent).provider_refund_id is not None
    assert all(_refund_row(world, r).status is RefundStatus.PENDING for r in stuck)


def test_a_pending_refund_whose_webhook_was_lost_is_read_until_it_settles(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    world.provider.refund_status = ProviderRefundStatus.PENDING
    refund_id = _refund(world, payment)
    _send(world)
    provider_id = _refund_row(world, refund_id).provider_refund_id
    assert provider_id is not None

    world.clock.advance(minutes=1)
    assert _send(world) == 1  # read: still pending
    assert _refund_row(world, refund_id).status is RefundStatus.PENDING
    world.provider.settle_refund(provider_id, ProviderRefundStatus.SUCCEEDED)  # no webhook
    assert _send(world) == 0  # not due again yet: backing off
    world.clock.advance(minutes=1)
    assert _send(world) == 1

    assert _refund_row(world, refund_id).status is RefundStatus.SUCCEEDED
    assert world.count(payment.order_id, "refund.succeeded") == 1


def test_a_refund_whose_key_expired_is_adopted_not_sent_again(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    refund_id = _refund(world, payment, amount=500)
    world.provider.fail_next(LOST, took_effect=True)  # the refund happened; its answer is lost
    assert _send(world) == 0
    world.clock.advance(hours=30)  # a long outage
    world.provider.forget_keys()  # as Stripe does after about 24 hours

    assert _send(world) == 1

    assert len(world.provider.all_refunds()) == 1  # one refund at the provider, not two
    row = _refund_row(world, refund_id)
    assert row.status is RefundStatus.SUCCEEDED
    assert row.provider_refund_id == world.provider.all_refunds()[0].provider_refund_id
    (adopted,) = [e for e in world.audit(payment.order_id) if e.action == "refund.succeeded"]
    assert adopted.details["source"] == "adopted"


def test_a_refund_that_never_reached_the_provider_is_sent_after_the_key_window(
    world: World,
) -> None:
    (payment,) = _paid_orders(world, 1)
    refund_id = _refund(world, payment, amount=500)
    world.provider.fail_next(LOST)  # never arrived
    _send(world)
    world.clock.advance(hours=30)
    world.provider.forget_keys()

    assert _send(world) == 1
    assert len(world.provider.all_refunds()) == 1
    assert _refund_row(world, refund_id).status is RefundStatus.SUCCEEDED


def test_a_refund_with_no_provider_configured_stays_pending_and_says_why(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    refund_id = _refund(world, payment)

    assert (
        execute_pending_refunds(uow_factory=world.uow_factory, providers={}, clock=world.clock) == 0
    )

    row = _refund_row(world, refund_id)
    assert row.status is RefundStatus.PENDING  # was: failed for good
    (deferred,) = [e for e in world.audit(payment.order_id) if e.action == "refund.deferred"]
    assert "no stripe adapter" in deferred.details["reason"]
    world.clock.advance(minutes=1)
    assert _send(world) == 1  # configured again: it goes out
    assert _refund_row(world, refund_id).status is RefundStatus.SUCCEEDED


def test_bad_credentials_never_fail_a_refund(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    refund_id = _refund(world, payment)
    world.provider.fail_next(ProviderMisconfigured("provider_misconfigured", "401: bad key"))

    assert _send(world) == 0

    assert _refund_row(world, refund_id).status is RefundStatus.PENDING
    assert world.count(payment.order_id, "refund.deferred") == 1
    world.clock.advance(minutes=1)
    assert _send(world) == 1
    assert _refund_row(world, refund_id).status is RefundStatus.SUCCEEDED


# ---------------------------------------------------------------------------- payments


def _resolve(world: World, *, limit: int = 50) -> int:
    return janitor.resolve_unknown(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock, limit=limit
    )


def test_an_attempt_left_created_without_a_provider_object_is_read_too(world: World) -> None:
    order_id = world.place_order().order.id

    def crash(_request: object) -> None:
        raise RuntimeError("the process died before the answer was recorded")

    world.provider.on_create = crash
    with pytest.raises(RuntimeError, match="process died"):
        world.start(order_id)
    world.provider.on_create = None
    (payment,) = world.store.payments
    assert (payment.status, payment.provider_ref) == (PaymentStatus.CREATED, None)
    assert _resolve(world) == 0  # its create call may still be in flight: not yet

    world.clock.advance(minutes=1)
    assert _resolve(world) == 1

    linked = world.payment(payment.id)
    assert linked.provider_ref is not None
    assert len(world.provider.intents) == 1


def test_an_unknown_create_older_than_the_key_window_is_found_not_made_again(
    world: World,
) -> None:
    order_id = world.place_order().order.id
    world.provider.fail_next(LOST, took_effect=True)  # the intent exists; the answer is lost
    with pytest.raises(Unavailable):  # a 503 to the buyer
        world.start(order_id)
    (payment,) = world.store.payments
    assert payment.status is PaymentStatus.UNKNOWN
    world.clock.advance(hours=30)
    world.provider.forget_keys()

    assert _resolve(world) == 1

    assert len(world.provider.intents) == 1  # adopted by its metadata, not created twice
    assert world.payment(payment.id).provider_ref == next(iter(world.provider.intents))


def test_unknown_attempts_behind_a_full_batch_are_still_resolved(world: World) -> None:
    stuck_orders = [world.place_order(buyer=world.new_buyer()).order.id for _ in range(6)]
    world.provider.fail_next(LOST, times=6)
    for order_id in stuck_orders:
        with pytest.raises(Unavailable):
            world.start(order_id)
    world.provider.fail_next(LOST, times=5)  # the first batch of reads answers nothing either
    assert _resolve(world, limit=5) == 0

    assert _resolve(world, limit=5) == 1  # the sixth is reached: the first five backed off
    world.clock.advance(minutes=1)
    assert _resolve(world, limit=5) == 5
    assert all(p.status is PaymentStatus.CREATED for p in world.store.payments)


def test_a_provider_amount_that_differs_is_audited_on_a_read_too(world: World) -> None:
    order_id = world.place_order().order.id
    started = world.start(order_id)
    ref = started.payment.provider_ref
    assert ref is not None
    world.provider.set_status(ref, PaymentStatus.SUCCEEDED, amount=100)  # a tampered intent
    _force_status(world, started.payment.id, PaymentStatus.UNKNOWN)  # its answer was lost

    assert _resolve(world) == 1

    # The webhook path always audited this; the read path ignored a same-currency difference.
    assert world.count(order_id, "payment.amount_mismatch") == 1
    assert world.payment(started.payment.id).status is PaymentStatus.SUCCEEDED
    assert world.view(order_id).status is OrderStatus.AWAITING_PAYMENT  # 100 is not the total


# ---------------------------------------------------------------------------- PayPal captures


def _paypal_world(world: World) -> FakeProvider:
    paypal = FakeProvider()
    paypal.name = ProviderName.PAYPAL  # type: ignore[misc]
    return paypal


def test_a_new_approval_is_captured_behind_more_stuck_captures_than_a_batch(
    world: World,
) -> None:
    paypal = _paypal_world(world)
    providers = {ProviderName.STRIPE: world.provider, ProviderName.PAYPAL: paypal}
    orders_ = [world.place_order(buyer=world.new_buyer()).order.id for _ in range(7)]
    for order_id in orders_:
        payments_start(world, providers, order_id)
    refs = {p.id: p.provider_ref for p in world.store.payments}
    # All approved; the capture of the first six keeps answering "processing" (stuck).
    for payment in world.store.payments:
        ref = refs[payment.id]
        assert ref is not None
        paypal.set_status(ref, PaymentStatus.PROCESSING)
        _force_status(world, payment.id, PaymentStatus.PROCESSING)
    newest = max(world.store.payments, key=lambda p: p.created_at)
    _force_status(world, newest.id, PaymentStatus.PROCESSING, later=timedelta(seconds=1))
    newest_ref = refs[newest.id]
    assert newest_ref is not None
    paypal.set_status(newest_ref, PaymentStatus.SUCCEEDED)

    for _ in range(2):
        janitor.capture_approved(
            uow_factory=world.uow_factory, providers=providers, clock=world.clock, limit=5
        )

    assert world.payment(newest.id).status is PaymentStatus.SUCCEEDED


def payments_start(
    world: World, providers: dict[ProviderName, FakeProvider], order_id: str
) -> None:
    from eventpay.services import payments

    payments.start_payment(
        uow_factory=world.uow_factory,
        providers=providers,  # type: ignore[arg-type]
        caller=world.buyer_of(order_id),
        order_id=order_id,
        provider=ProviderName.PAYPAL,
        return_url=None,
        clock=world.clock,
    )


def _force_status(
    world: World, payment_id: str, status: PaymentStatus, *, later: timedelta = timedelta(0)
) -> None:
    with world.uow_factory() as uow:
        p = uow.payments.get(payment_id)
        assert p is not None
        p.status = status
        p.next_check_at = world.clock() + later
        uow.payments.save(p)
        uow.commit()
    world.clock.advance(seconds=1)


# ---------------------------------------------------------------------------- places


def _withdraw(world: World, order_id: str) -> None:
    withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=BUYER,
        order_id=order_id,
        amount=None,
        reason="cannot come",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )


def test_a_refused_withdrawal_refund_keeps_the_places_and_says_so(world: World) -> None:
    from eventpay.ports import ProviderRejected

    (payment,) = _paid_orders(world, 1)
    world.provider.fail_next(ProviderRejected("charge_disputed", "The charge is disputed."))

    _withdraw(world, payment.order_id)

    view = world.view(payment.order_id)
    assert registration_statuses(view) == [RegistrationStatus.CONFIRMED.value]  # was: cancelled
    (refund,) = view.refunds
    assert refund.status is RefundStatus.FAILED
    assert "charge_disputed" in (refund.failure_reason or "")
    assert world.count(payment.order_id, "order.withdrawal_refund_failed") == 1


def test_a_withdrawal_releases_places_only_when_its_refund_succeeds(world: World) -> None:
    (payment,) = _paid_orders(world, 1)
    world.provider.refund_status = ProviderRefundStatus.PENDING

    _withdraw(world, payment.order_id)

    view = world.view(payment.order_id)
    assert registration_statuses(view) == [RegistrationStatus.CONFIRMED.value]
    quote = withdrawals.quote(
        uow=world.uow_factory(), caller=BUYER, order_id=payment.order_id, now=world.clock()
    )
    assert quote.quote.already_returned.is_zero()  # pending is on its way, not returned
    assert quote.quote.on_its_way.amount == view.order.total
    assert quote.quote.refundable.is_zero()  # and it is never offered twice

    (refund,) = view.refunds
    assert refund.provider_refund_id is not None
    world.provider.settle_refund(refund.provider_refund_id, ProviderRefundStatus.SUCCEEDED)
    world.clock.advance(minutes=1)
    _send(world)

    view = world.view(payment.order_id)
    assert registration_statuses(view) == [RegistrationStatus.CANCELLED.value]
    assert view.status is OrderStatus.REFUNDED
