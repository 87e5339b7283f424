"""start_payment and resolve_unknown: the attempt is committed first, and never charged twice."""

from __future__ import annotations

import pytest

from eventpay.domain import Money, OrderStatus, PaymentStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import (
    SYSTEM_ACTOR,
    CreatePayment,
    PaymentRecord,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from eventpay.services import janitor
from eventpay.services.errors import Conflict, InvalidRequest, NotFound, Unavailable

from .scenario import BUYER, SPRING, STRANGER, World

TIMEOUT = ProviderOutcomeUnknown("provider_unreachable", "Stripe did not answer in time")


def resolve(world: World) -> int:
    return janitor.resolve_unknown(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )


def only_payment(world: World) -> PaymentRecord:
    (payment,) = world.store.payments
    return payment


# ---------------------------------------------------------------------------- the happy path


def test_attempt_is_committed_with_key_and_metadata_before_the_provider_is_called(
    world: World,
) -> None:
    order = world.place_order().order
    seen: list[tuple[CreatePayment, PaymentRecord | None]] = []

    def look_at_the_database(request: CreatePayment) -> None:
        with world.uow_factory() as uow:
            seen.append((request, uow.payments.get(request.payment_id)))

    world.provider.on_create = look_at_the_database
    world.start(order.id)

    ((request, committed),) = seen
    assert committed is not None, "the attempt was not committed before the provider call"
    assert committed.status is PaymentStatus.CREATED
    assert committed.provider_ref is None
    assert committed.idempotency_key == request.idempotency_key
    assert committed.amount == order.total
    assert request.amount == Money(order.total, "usd")
    (reg,) = order.registrations
    expected = {
        "payment_id": committed.id,
        "order_id": order.id,
        "competitor_id": BUYER.user_id,
        "event_id": SPRING,
        "registration_id": reg.id,
    }
    assert committed.metadata == expected
    assert dict(request.metadata) == expected


def test_provider_object_is_linked_to_the_attempt(world: World) -> None:
    order = world.place_order().order

    started = world.start(order.id)

    (ref,) = world.provider.intents
    stored = world.payment(started.payment.id)
    assert stored.stripe_payment_intent_id == ref
    assert stored.status is PaymentStatus.CREATED
    assert started.client_secret == world.provider.intents[ref]["client_secret"]
    assert world.provider.intents[ref]["metadata"]["payment_id"] == stored.id
    assert world.actions(order.id)[-2:] == ["payment.created", "payment.provider_linked"]
    assert world.view(order.id).status is OrderStatus.AWAITING_PAYMENT


def test_second_start_reuses_the_open_attempt(world: World) -> None:
    order = world.place_order().order

    first = world.start(order.id)
    second = world.start(order.id)

    assert second.payment.id == first.payment.id
    assert second.client_secret == first.client_secret
    assert len(world.store.payments) == 1
    assert len(world.provider.intents) == 1
    assert world.count(order.id, "payment.created") == 1


def test_an_attempt_waiting_for_customer_action_is_reused(world: World) -> None:
    order = world.place_order().order
    first = world.start(order.id)
    ref = first.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.REQUIRES_ACTION))
    world.process_all()
    assert world.payment(first.payment.id).status is PaymentStatus.REQUIRES_ACTION

    second = world.start(order.id)

    assert second.payment.id == first.payment.id
    assert len(world.provider.intents) == 1


# ---------------------------------------------------------------------------- provider trouble


def test_lost_answer_makes_the_attempt_unknown_not_failed(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=True)

    with pytest.raises(Unavailable) as raised:
        world.start(order.id)

    assert raised.value.code == "provider_outcome_unknown"
    payment = only_payment(world)
    assert raised.value.details == {"payment_id": payment.id}
    assert payment.status is PaymentStatus.UNKNOWN
    assert payment.failure_code is None
    assert payment.provider_ref is None
    assert world.count(order.id, "payment.unknown") == 1
    assert world.count(order.id, "payment.failed") == 0
    assert world.view(order.id).status is OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("took_effect", [True, False], ids=["answer-lost", "call-lost"])
def test_retry_after_a_lost_answer_reaches_the_same_provider_object(
    world: World, took_effect: bool
) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=took_effect)
    with pytest.raises(Unavailable):
        world.start(order.id)

    retried = world.start(order.id)

    assert len(world.provider.intents) == 1
    (ref,) = world.provider.intents
    payment = only_payment(world)
    assert retried.payment.id == payment.id
    assert payment.stripe_payment_intent_id == ref
    keys = {request.idempotency_key for request in world.provider.create_requests}
    assert keys == {payment.idempotency_key}
    assert retried.client_secret == world.provider.intents[ref]["client_secret"]


def test_retry_after_a_lost_answer_settles_the_unknown_attempt(world: World) -> None:
    """Once the provider has answered, the attempt's outcome is known: it is no longer unknown."""
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=True)
    with pytest.raises(Unavailable):
        world.start(order.id)

    world.start(order.id)

    assert only_payment(world).status is PaymentStatus.CREATED


def test_rejected_create_fails_the_attempt_with_the_provider_code(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(ProviderRejected("amount_too_small", "Amount too small"))

    with pytest.raises(InvalidRequest) as raised:
        world.start(order.id)

    assert raised.value.code == "provider_rejected"
    assert raised.value.details["provider_code"] == "amount_too_small"
    payment = only_payment(world)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "amount_too_small"
    assert payment.failure_message == "Amount too small"
    assert world.provider.intents == {}
    failed = [e for e in world.audit(order.id) if e.action == "payment.failed"]
    assert [e.details["failure_code"] for e in failed] == ["amount_too_small"]


def test_a_failed_attempt_is_not_reused(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(ProviderRejected("amount_too_small", "Amount too small"))
    with pytest.raises(InvalidRequest):
        world.start(order.id)
    world.clock.advance(minutes=1)

    started = world.start(order.id)

    failed, fresh = world.store.payments
    assert failed.status is PaymentStatus.FAILED
    assert fresh.id == started.payment.id != failed.id
    assert fresh.idempotency_key != failed.idempotency_key
    assert len(world.provider.intents) == 1


# ---------------------------------------------------------------------------- refusals


def test_a_paid_order_cannot_be_paid_again(world: World) -> None:
    order = world.place_order().order
    world.pay(order.id)
    intents = len(world.provider.intents)

    with pytest.raises(Conflict) as raised:
        world.start(order.id)

    assert raised.value.code == "order_already_paid"
    assert len(world.store.payments) == 1
    assert len(world.provider.intents) == intents


def test_an_expired_order_is_not_payable(world: World) -> None:
    order = world.place_order().order
    assert order.expires_at is not None
    world.clock.now = order.expires_at

    with pytest.raises(Conflict) as raised:
        world.start(order.id)

    assert raised.value.code == "order_not_payable"
    assert world.store.payments == []


def test_an_unconfigured_provider_is_refused_before_anything_is_stored(world: World) -> None:
    order = world.place_order().order
    commits = world.store.commits

    with pytest.raises(InvalidRequest) as raised:
        world.start(order.id, provider=ProviderName.PAYPAL)

    assert raised.value.code == "provider_unavailable"
    assert raised.value.details["available"] == ["stripe"]
    assert world.store.payments == []
    assert world.store.commits == commits


def test_someone_elses_order_is_not_found(world: World) -> None:
    order = world.place_order().order

    with pytest.raises(NotFound):
        world.start(order.id, buyer=STRANGER)

    assert world.store.payments == []
    assert world.provider.intents == {}


# ---------------------------------------------------------------------------- resolve_unknown


def test_resolve_unknown_applies_what_the_provider_says(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=True)
    with pytest.raises(Unavailable):
        world.start(order.id)
    (ref,) = world.provider.intents
    world.provider.set_status(ref, PaymentStatus.SUCCEEDED)  # the customer paid meanwhile

    assert resolve(world) == 1

    payment = only_payment(world)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.stripe_payment_intent_id == ref
    assert payment.amount_received == order.total
    view = world.view(order.id)
    assert view.status is OrderStatus.PAID
    assert [r.status for r in view.order.registrations] == [RegistrationStatus.CONFIRMED]
    assert len(world.provider.intents) == 1
    assert {e.actor_id for e in world.audit(order.id)[-3:]} == {SYSTEM_ACTOR}


def test_resolve_unknown_creates_through_the_stored_key_when_the_call_never_arrived(
    world: World,
) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=False)
    with pytest.raises(Unavailable):
        world.start(order.id)
    assert world.provider.intents == {}

    resolve(world)

    (ref,) = world.provider.intents
    payment = only_payment(world)
    assert payment.stripe_payment_intent_id == ref
    assert world.provider.create_requests[0].idempotency_key == payment.idempotency_key


def test_resolve_unknown_leaves_nothing_unknown_once_the_provider_answered(world: World) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, took_effect=True)
    with pytest.raises(Unavailable):
        world.start(order.id)

    first = resolve(world)
    second = resolve(world)

    assert (first, second) == (1, 0)
    assert only_payment(world).status is PaymentStatus.CREATED


def test_resolve_unknown_keeps_an_attempt_unknown_while_the_provider_stays_silent(
    world: World,
) -> None:
    order = world.place_order().order
    world.provider.fail_next(TIMEOUT, times=2, took_effect=False)
    with pytest.raises(Unavailable):
        world.start(order.id)

    assert resolve(world) == 0

    assert only_payment(world).status is PaymentStatus.UNKNOWN
    assert world.provider.intents == {}


def test_the_provider_key_is_derived_from_the_attempt(world: World) -> None:
    order = world.place_order().order
    start = world.start(order.id)
    assert start.payment.idempotency_key == f"eventpay-payment-{start.payment.id}"
    assert [r.idempotency_key for r in world.provider.create_requests] == [
        start.payment.idempotency_key
    ]


def test_no_second_attempt_while_money_is_on_its_way(world: World) -> None:
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.PROCESSING))
    world.process_all()
    with pytest.raises(Conflict) as raised:
        world.start(order.id)
    assert raised.value.code == "payment_in_progress"
    assert raised.value.details["payment_ids"] == [start.payment.id]
    assert len(world.view(order.id).payments) == 1


def test_a_public_cancel_link_cannot_cancel_a_card_payment(world: World) -> None:
    from eventpay.services.buyer_returns import cancel_by_buyer

    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    result = cancel_by_buyer(
        uow_factory=world.uow_factory,
        providers=world.providers,
        payment_id=start.payment.id,
        provider_ref=ref,
        clock=world.clock,
    )
    assert result.status is PaymentStatus.CREATED
    # The card payment then goes through and pays the order.
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    assert world.view(order.id).status is OrderStatus.PAID


def test_money_after_a_cancellation_is_counted(world: World) -> None:
    order = world.place_order().order
    start = world.start(order.id)
    ref = start.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.CANCELED))
    world.process_all()
    assert world.payment(start.payment.id).status is PaymentStatus.CANCELED
    world.deliver(
        world.provider.event(
            ref,
            "payment_intent.succeeded",
            status="succeeded",
            amount_received=world.provider.intents[ref]["amount"],
        )
    )
    world.process_all()
    assert world.payment(start.payment.id).status is PaymentStatus.SUCCEEDED
    assert world.view(order.id).status is OrderStatus.PAID
