"""webhooks.process_next and replay: each event applied once, atomically, retried, dead-lettered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.domain import OrderStatus, PaymentStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import (
    OrderRecord,
    ProviderName,
    ProviderOutcomeUnknown,
    WebhookEventRecord,
    WebhookStatus,
)
from eventpay.services import webhooks
from eventpay.services.errors import NotFound, Unavailable

from .fakes import stripe_event
from .scenario import World

SETTLED = ("payment.succeeded", "order.paid", "registration.confirmed")


def started(world: World) -> tuple[OrderRecord, str, str]:
    """An order with a started payment: (order, payment id, provider ref)."""
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    return order, start.payment.id, ref


def replay(world: World, event_id: str) -> None:
    webhooks.replay(
        uow_factory=world.uow_factory, event_row_id=world.event_row(event_id).id, now=world.clock()
    )


def counts(world: World, order_id: str) -> tuple[int, ...]:
    return tuple(world.count(order_id, action) for action in SETTLED)


# ---------------------------------------------------------------------------- success


def test_nothing_due_means_nothing_to_do(world: World) -> None:
    assert world.process_next() is None


def test_success_pays_the_order_and_confirms_its_registrations(world: World) -> None:
    order, payment_id, ref = started(world)
    world.clock.advance(minutes=2)
    event = world.report(ref, PaymentStatus.SUCCEEDED)
    world.deliver(event)

    handled = world.process_next()

    assert handled is not None
    assert handled.status is WebhookStatus.PROCESSED
    row = world.event_row(event["id"])
    assert (row.status, row.attempts, row.processed_at) == (
        WebhookStatus.PROCESSED,
        1,
        world.clock(),
    )
    payment = world.payment(payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.amount_received == order.total
    view = world.view(order.id)
    assert view.status is OrderStatus.PAID
    assert view.summary.balance_due.amount == 0
    (reg,) = view.order.registrations
    assert reg.status is RegistrationStatus.CONFIRMED
    assert reg.confirmed_at == world.clock()
    assert counts(world, order.id) == (1, 1, 1)
    succeeded = next(e for e in world.audit(order.id) if e.action == "payment.succeeded")
    assert succeeded.actor_id == "stripe-webhook"
    assert succeeded.details["event_id"] == event["id"]
    assert succeeded.details["from"] == "created"


def test_replayed_and_reprocessed_success_changes_nothing(world: World) -> None:
    order, _, ref = started(world)
    event = world.report(ref, PaymentStatus.SUCCEEDED)
    world.deliver(event)
    world.process_all()
    settled = world.store.snapshot()
    world.clock.advance(hours=1)

    replay(world, event["id"])
    assert world.event_row(event["id"]).status is WebhookStatus.PENDING
    handled = world.process_all()

    assert [h.event_id for h in handled] == [event["id"]]
    assert world.event_row(event["id"]).status is WebhookStatus.PROCESSED
    assert counts(world, order.id) == (1, 1, 1)
    assert world.store.tables.audit == settled.audit
    assert world.store.tables.payments == settled.payments
    assert world.store.tables.orders == settled.orders


def test_a_second_success_event_for_the_same_intent_changes_nothing(world: World) -> None:
    order, _, ref = started(world)
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    world.deliver(world.provider.event(ref, "payment_intent.succeeded"))  # a new event id
    world.process_all()

    assert len(world.store.webhook_events) == 2
    assert counts(world, order.id) == (1, 1, 1)


@pytest.mark.parametrize(
    "late", [PaymentStatus.FAILED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING]
)
def test_an_older_event_arriving_after_success_changes_nothing(
    world: World, late: PaymentStatus
) -> None:
    order, payment_id, ref = started(world)
    stale = world.report(ref, late)  # sent by Stripe first ...
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    before = world.store.snapshot()

    world.deliver(stale)  # ... delivered last
    world.process_all()

    payment = world.payment(payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.failure_code is None
    assert world.store.tables.audit == before.audit
    assert world.view(order.id).status is OrderStatus.PAID
    assert world.event_row(stale["id"]).status is WebhookStatus.PROCESSED


def test_a_decline_records_the_failure_and_leaves_the_order_payable(world: World) -> None:
    order, payment_id, ref = started(world)
    world.deliver(world.report(ref, PaymentStatus.FAILED))

    world.process_all()

    payment = world.payment(payment_id)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "card_declined"
    view = world.view(order.id)
    assert view.status is OrderStatus.AWAITING_PAYMENT
    assert [r.status for r in view.order.registrations] == [RegistrationStatus.PENDING]


def test_events_that_move_no_attempt_are_ignored(world: World) -> None:
    order, _, ref = started(world)
    before = world.store.snapshot()
    charge = stripe_event(
        "charge.succeeded",
        {"id": "ch_1", "payment_intent": ref, "amount": order.total, "currency": "usd"},
    )
    world.deliver(charge)

    handled = world.process_next()

    assert handled is not None
    assert handled.status is WebhookStatus.IGNORED
    assert world.event_row(charge["id"]).status is WebhookStatus.IGNORED
    assert world.store.tables.payments == before.payments
    assert world.store.tables.audit == before.audit
    assert world.process_next() is None


def test_a_failure_for_an_unknown_payment_is_ignored_not_retried(world: World) -> None:
    world.deliver(
        stripe_event(
            "payment_intent.payment_failed",
            {"id": "pi_elsewhere", "amount": 100, "currency": "usd", "metadata": {}},
            event_id="evt_elsewhere",
        )
    )

    world.process_all()

    assert world.event_row("evt_elsewhere").status is WebhookStatus.IGNORED


def test_a_webhook_settles_an_attempt_whose_create_answer_was_lost(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(
        ProviderOutcomeUnknown("provider_unreachable", "timeout"), took_effect=True
    )
    with pytest.raises(Unavailable):
        world.start(order.id)
    (payment,) = world.store.payments
    (ref,) = world.provider.intents
    assert payment.provider_ref is None

    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))  # found via metadata.payment_id
    world.process_all()

    payment = world.payment(payment.id)
    assert payment.stripe_payment_intent_id == ref
    assert payment.status is PaymentStatus.SUCCEEDED
    assert world.view(order.id).status is OrderStatus.PAID


# ---------------------------------------------------------------------------- retries


def unmatched_success(world: World, event_id: str = "evt_orphan") -> None:
    world.deliver(
        stripe_event(
            "payment_intent.succeeded",
            {"id": "pi_orphan", "amount": 4000, "currency": "usd", "metadata": {}},
            event_id=event_id,
        )
    )


def test_money_for_an_unknown_payment_is_retried_with_backoff(world: World) -> None:
    unmatched_success(world)
    first_try = world.clock()

    handled = world.process_next()

    assert handled is not None
    row = world.event_row("evt_orphan")
    assert row.status is WebhookStatus.RETRYING
    assert row.attempts == 1
    assert row.next_attempt_at == first_try + world.retry.delay_after(1)
    assert row.next_attempt_at > first_try
    assert row.last_error is not None
    assert "UnmatchedPayment" in row.last_error
    assert "pi_orphan" in row.last_error
    assert row.processed_at is None

    # Not due again before its time.
    world.clock.now = row.next_attempt_at - timedelta(microseconds=1)
    assert world.process_next() is None
    world.clock.now = row.next_attempt_at
    world.process_next()
    second = world.event_row("evt_orphan")
    assert second.attempts == 2
    assert second.next_attempt_at - world.clock() == world.retry.delay_after(2)
    assert world.retry.delay_after(2) > world.retry.delay_after(1)


def test_money_for_an_unknown_payment_is_dead_lettered_after_max_attempts(world: World) -> None:
    unmatched_success(world)

    statuses = []
    for _ in range(world.retry.max_attempts):
        world.process_next()
        row = world.event_row("evt_orphan")
        statuses.append(row.status)
        world.clock.now = row.next_attempt_at

    expected = [WebhookStatus.RETRYING] * (world.retry.max_attempts - 1) + [WebhookStatus.DEAD]
    assert statuses == expected
    dead = world.event_row("evt_orphan")
    assert dead.attempts == world.retry.max_attempts
    assert dead.last_error is not None
    assert "UnmatchedPayment" in dead.last_error
    world.clock.advance(days=30)
    assert world.process_next() is None


def test_a_dead_event_can_be_replayed_after_a_fix(world: World) -> None:
    world.retry = webhooks.RetryPolicy(max_attempts=1)
    unmatched_success(world)
    world.process_next()
    assert world.event_row("evt_orphan").status is WebhookStatus.DEAD

    replay(world, "evt_orphan")

    row = world.event_row("evt_orphan")
    assert row.status is WebhookStatus.PENDING
    assert row.next_attempt_at == world.clock()
    assert world.process_next() is not None


def test_replaying_an_unknown_row_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        webhooks.replay(uow_factory=world.uow_factory, event_row_id="nope", now=world.clock())

    assert raised.value.code == "webhook_event_not_found"


def test_a_success_naming_our_payment_but_another_intent_is_not_applied(world: World) -> None:
    order, payment_id, ref = started(world)
    intent = dict(world.provider.intents[ref], id="pi_somebody_else", status="succeeded")
    world.deliver(stripe_event("payment_intent.succeeded", intent, event_id="evt_mixup"))

    world.process_all()

    row = world.event_row("evt_mixup")
    assert row.status is WebhookStatus.RETRYING
    assert row.last_error is not None
    assert "UnmatchedPayment" in row.last_error
    assert world.payment(payment_id).status is PaymentStatus.CREATED
    assert world.payment(payment_id).stripe_payment_intent_id == ref
    assert world.view(order.id).status is OrderStatus.AWAITING_PAYMENT


def test_a_failure_midway_leaves_no_partial_change(world: World) -> None:
    order, payment_id, ref = started(world)
    event = world.report(ref, PaymentStatus.SUCCEEDED)
    world.deliver(event)
    before = world.store.snapshot()
    # Fails after the payment row and two audit rows were written in the same transaction.
    world.store.fail_on("orders.set_registration_status", RuntimeError("disk full"))

    world.process_next()

    assert world.store.tables.payments == before.payments
    assert world.store.tables.orders == before.orders
    assert world.store.tables.audit == before.audit
    row = world.event_row(event["id"])
    assert row.status is WebhookStatus.RETRYING
    assert row.last_error == "RuntimeError: disk full"

    world.store.clear_faults()
    world.clock.now = row.next_attempt_at
    world.process_all()

    assert world.payment(payment_id).status is PaymentStatus.SUCCEEDED
    assert counts(world, order.id) == (1, 1, 1)
    assert world.event_row(event["id"]).status is WebhookStatus.PROCESSED
    assert world.event_row(event["id"]).last_error is None


def test_a_failing_event_does_not_block_the_next_one(world: World) -> None:
    order, _, ref = started(world)
    unmatched_success(world)
    world.clock.advance(seconds=1)
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))

    world.process_all()

    assert world.event_row("evt_orphan").status is WebhookStatus.RETRYING
    assert world.view(order.id).status is OrderStatus.PAID


def test_money_after_expiry_still_pays_the_order(world: World) -> None:
    order, payment_id, ref = started(world)
    assert order.expires_at is not None
    world.clock.now = order.expires_at + timedelta(minutes=5)
    assert world.view(order.id).status is OrderStatus.EXPIRED

    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    view = world.view(order.id)
    assert view.status is OrderStatus.PAID
    assert [r.status for r in view.order.registrations] == [RegistrationStatus.CONFIRMED]
    assert world.payment(payment_id).status is PaymentStatus.SUCCEEDED


def test_an_event_for_an_unconfigured_provider_is_kept_for_a_person(world: World) -> None:
    row = WebhookEventRecord(
        id="row-paypal",
        provider=ProviderName.PAYPAL,
        event_id="WH-1",
        type="PAYMENT.CAPTURE.COMPLETED",
        payload="{}",
        status=WebhookStatus.PENDING,
        received_at=world.clock(),
        next_attempt_at=world.clock(),
    )
    webhooks.store_events(uow_factory=world.uow_factory, events=[row])

    world.process_all()

    stored = world.store.tables.webhooks["row-paypal"]
    assert stored.status is WebhookStatus.RETRYING
    assert stored.last_error is not None
    assert "paypal" in stored.last_error
