"""Property: however a payment's webhook events are ordered, repeated or replayed, the money
is counted once, and the order is paid exactly when a success came before any cancellation."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from eventpay.domain import OrderStatus, PaymentStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import WebhookStatus
from eventpay.services import webhooks

from .scenario import World

REPORTED = [
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
    PaymentStatus.CANCELED,
]


@dataclass(frozen=True)
class Step:
    event: int  # index into the events Stripe sent
    process_after: bool  # run the worker right after this delivery
    replay_after: bool  # an operator replays this event after it was processed


@st.composite
def scripts(draw: st.DrawFn) -> tuple[list[PaymentStatus], list[Step]]:
    sent = draw(st.lists(st.sampled_from(REPORTED), min_size=1, max_size=6))
    order = draw(st.permutations(range(len(sent))))
    redelivered = draw(st.lists(st.integers(0, len(sent) - 1), max_size=4))
    sequence = list(order)
    for index in redelivered:
        sequence.insert(draw(st.integers(0, len(sequence))), index)
    steps = [Step(i, draw(st.booleans()), draw(st.booleans())) for i in sequence]
    return sent, steps


@settings(max_examples=75, deadline=None)
@given(scripts())
def test_events_in_any_order_count_the_money_once(
    script: tuple[list[PaymentStatus], list[Step]],
) -> None:
    sent, steps = script
    world = World()
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    events = [world.report(ref, status) for status in sent]
    status_of = {event["id"]: status for event, status in zip(events, sent, strict=True)}

    processed: list[str] = []
    for step in steps:
        world.clock.advance(seconds=1)
        world.deliver(events[step.event])
        if step.process_after:
            processed += [e.event_id for e in world.process_all()]
        event_id = events[step.event]["id"]
        if step.replay_after and event_id in processed:
            webhooks.replay(
                uow_factory=world.uow_factory,
                event_row_id=world.event_row(event_id).id,
                now=world.clock(),
            )
    world.clock.advance(seconds=1)
    processed += [e.event_id for e in world.process_all()]

    # Expected: a success report, whenever it is processed, always wins (money received is
    # never ignored, not even after a cancellation); every other report can be followed by one.
    applied = [status_of[event_id] for event_id in processed]
    expect_paid = PaymentStatus.SUCCEEDED in applied

    assert set(processed) == set(status_of)
    rows = world.store.webhook_events
    assert len(rows) == len(events)
    assert {row.status for row in rows} == {WebhookStatus.PROCESSED}
    assert world.count(order.id, "payment.succeeded") == int(expect_paid)
    assert world.count(order.id, "order.paid") == int(expect_paid)
    assert world.count(order.id, "registration.confirmed") == int(expect_paid)
    assert world.count(order.id, "order.overpaid") == 0
    view = world.view(order.id)
    assert (view.status is OrderStatus.PAID) == expect_paid
    expected_reg = RegistrationStatus.CONFIRMED if expect_paid else RegistrationStatus.PENDING
    assert [r.status for r in view.order.registrations] == [expected_reg]
    final = world.payment(start.payment.id).status
    assert (final is PaymentStatus.SUCCEEDED) == expect_paid
    if PaymentStatus.CANCELED in applied and not expect_paid:
        assert final is PaymentStatus.CANCELED
