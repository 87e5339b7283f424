"""webhooks.replay_now: one named event applied at once, as the worker would apply it."""

from __future__ import annotations

import pytest

from eventpay.domain import OrderStatus, PaymentStatus
from eventpay.ports import WebhookEventRecord, WebhookStatus
from eventpay.services import webhooks
from eventpay.services.errors import NotFound

from .fakes import stripe_event
from .scenario import World


def replay_now(world: World, event_id: str) -> WebhookEventRecord:
    return webhooks.replay_now(
        uow_factory=world.uow_factory,
        providers=world.providers,
        clock=world.clock,
        retry=world.retry,
        event_row_id=world.event_row(event_id).id,
    )


def orphan(world: World, event_id: str = "evt_orphan") -> None:
    """Money for an intent nobody here created: fails until a person steps in."""
    world.deliver(
        stripe_event(
            "payment_intent.succeeded",
            {"id": "pi_orphan", "amount": 4000, "currency": "usd", "metadata": {}},
            event_id=event_id,
        )
    )


def test_a_stored_event_is_applied_without_a_worker(world: World) -> None:
    order = world.place_order().order
    ref = world.start(order.id).payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED) | {"id": "evt_paid"})

    replayed = replay_now(world, "evt_paid")

    assert replayed.status is WebhookStatus.PROCESSED
    assert world.event_row("evt_paid").status is WebhookStatus.PROCESSED
    assert world.view(order.id).status is OrderStatus.PAID


def test_only_the_named_event_is_applied_though_others_are_due_first(world: World) -> None:
    orphan(world, "evt_older")
    world.clock.advance(minutes=5)
    order = world.place_order().order
    ref = world.start(order.id).payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED) | {"id": "evt_paid"})
    older_before = world.event_row("evt_older")

    replay_now(world, "evt_paid")

    assert world.event_row("evt_older") == older_before  # still pending, never attempted
    assert world.event_row("evt_paid").status is WebhookStatus.PROCESSED
    assert world.view(order.id).status is OrderStatus.PAID


def test_a_failure_is_recorded_as_the_worker_records_it(world: World) -> None:
    world.retry = webhooks.RetryPolicy(max_attempts=2)
    orphan(world)
    world.process_all()
    world.clock.now = world.event_row("evt_orphan").next_attempt_at
    world.process_all()
    assert world.event_row("evt_orphan").status is WebhookStatus.DEAD

    replayed = replay_now(world, "evt_orphan")

    assert replayed.status is WebhookStatus.DEAD
    assert replayed.attempts == 3
    assert replayed.last_error is not None
    assert "UnmatchedPayment" in replayed.last_error
    assert world.event_row("evt_orphan") == replayed


def test_replaying_an_applied_event_changes_nothing_else(world: World) -> None:
    order = world.place_order().order
    ref = world.start(order.id).payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED) | {"id": "evt_paid"})
    world.process_all()
    before = world.store.snapshot()
    world.clock.advance(hours=1)

    replayed = replay_now(world, "evt_paid")

    after = world.store.snapshot()
    assert replayed.status is WebhookStatus.PROCESSED
    assert replayed.attempts == 2
    assert (after.payments, after.orders, after.audit) == (
        before.payments,
        before.orders,
        before.audit,
    )


def test_an_unknown_row_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        webhooks.replay_now(
            uow_factory=world.uow_factory,
            providers=world.providers,
            clock=world.clock,
            retry=world.retry,
            event_row_id="nope",
        )

    assert raised.value.code == "webhook_event_not_found"
