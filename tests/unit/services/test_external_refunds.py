"""Refunds someone made at the provider itself (a dashboard) are recorded, once, and counted."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest

from eventpay.domain import Money, OrderStatus, PaymentStatus, RefundStatus
from eventpay.ports import (
    PaymentRecord,
    ProviderName,
    ProviderRefundStatus,
    RefundUpdate,
    WebhookStatus,
)
from eventpay.services import withdrawals
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import apply_refund_update

from .fakes import stripe_event
from .scenario import BUYER, World
from .test_refunds import _overpay

_refund_ids = itertools.count(1)


def dashboard_refund(
    payment: PaymentRecord,
    *,
    amount: int | None = None,
    status: str = "succeeded",
    refund_id: str | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A Stripe refund object as the dashboard makes it: no metadata of ours."""
    refund: dict[str, Any] = {
        "id": refund_id or f"re_dash{next(_refund_ids):04d}",
        "object": "refund",
        "amount": payment.amount if amount is None else amount,
        "charge": payment.capture_id,
        "currency": payment.currency,
        "metadata": {},
        "payment_intent": payment.provider_ref,
        "reason": "requested_by_customer",
        "status": status,
    }
    refund.update(changes)
    return refund


def refund_event(event_type: str, refund: dict[str, Any]) -> dict[str, Any]:
    return stripe_event(event_type, refund)


def _paid(world: World) -> tuple[str, PaymentRecord]:
    order = world.place_order().order
    return order.id, world.pay(order.id)


def test_a_dashboard_refund_of_a_paid_order_is_recorded_as_external(world: World) -> None:
    order_id, payment = _paid(world)
    refund = dashboard_refund(payment)

    row = world.deliver(refund_event("refund.created", refund))
    world.process_all()

    assert world.event_row(row.event_id).status is WebhookStatus.PROCESSED
    view = world.view(order_id)
    assert view.status is OrderStatus.REFUNDED
    (recorded,) = view.refunds
    assert (recorded.kind, recorded.status) == ("external", RefundStatus.SUCCEEDED)
    assert (recorded.amount, recorded.currency) == (payment.amount, payment.currency)
    assert recorded.payment_id == payment.id
    assert recorded.provider_refund_id == refund["id"]
    assert recorded.reason == "refunded at Stripe outside eventpay"
    (entry,) = [e for e in world.audit(order_id) if e.action == "refund.recorded_external"]
    assert (entry.entity_type, entry.entity_id) == ("refund", recorded.id)
    assert entry.payment_id == payment.id
    assert entry.actor_id == "stripe-webhook"
    assert entry.details == {
        "amount": payment.amount,
        "currency": payment.currency,
        "provider_refund_id": refund["id"],
        "status": "succeeded",
    }


def test_an_external_refund_is_never_sent_again(world: World) -> None:
    order_id, payment = _paid(world)
    world.deliver(refund_event("refund.created", dashboard_refund(payment, status="pending")))
    world.process_all()

    sent = execute_pending_refunds(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )

    assert sent == 0
    assert world.provider.refunds == {}
    assert [r.status for r in world.view(order_id).refunds] == [RefundStatus.PENDING]


def test_the_same_refund_in_two_events_is_recorded_once(world: World) -> None:
    order_id, payment = _paid(world)
    refund = dashboard_refund(payment)

    # Two deliveries with different event ids (a retried one is already deduplicated on ingest).
    world.deliver(refund_event("refund.created", refund))
    world.deliver(refund_event("refund.created", refund))
    handled = world.process_all()

    assert [e.status for e in handled] == [WebhookStatus.PROCESSED] * 2
    assert len(world.view(order_id).refunds) == 1
    assert world.count(order_id, "refund.recorded_external") == 1


def test_created_then_updated_moves_the_one_external_refund(world: World) -> None:
    order_id, payment = _paid(world)
    pending = dashboard_refund(payment, status="pending")
    world.deliver(refund_event("refund.created", pending))
    world.process_all()
    assert world.view(order_id).status is OrderStatus.PAID  # a pending refund returned nothing yet

    world.deliver(refund_event("refund.updated", {**pending, "status": "succeeded"}))
    world.process_all()

    view = world.view(order_id)
    (refund,) = view.refunds
    assert (refund.kind, refund.status) == ("external", RefundStatus.SUCCEEDED)
    assert view.status is OrderStatus.REFUNDED
    assert world.actions(order_id).count("refund.recorded_external") == 1
    succeeded = [e for e in world.audit(order_id) if e.action == "refund.succeeded"]
    assert [(e.details["from"], e.details["to"]) for e in succeeded] == [("pending", "succeeded")]


def test_an_external_refund_that_fails_later_stops_counting(world: World) -> None:
    order_id, payment = _paid(world)
    refund = dashboard_refund(payment)
    world.deliver(refund_event("refund.created", refund))
    world.process_all()
    failed = {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"}

    world.deliver(refund_event("refund.failed", failed))
    world.process_all()

    view = world.view(order_id)
    assert [(r.status, r.failure_reason) for r in view.refunds] == [
        (RefundStatus.FAILED, "expired_or_canceled_card")
    ]
    assert view.status is OrderStatus.PAID


def test_a_partial_external_refund_counts_in_the_quote(world: World) -> None:
    order_id, payment = _paid(world)
    before = withdrawals.quote(
        uow=world.uow_factory(), caller=BUYER, order_id=order_id, now=world.clock()
    )
    assert before.quote.already_returned.amount == 0
    assert before.quote.refundable.is_positive()

    world.deliver(refund_event("refund.created", dashboard_refund(payment, amount=1000)))
    world.process_all()

    assert world.view(order_id).status is OrderStatus.PARTIALLY_REFUNDED
    after = withdrawals.quote(
        uow=world.uow_factory(), caller=BUYER, order_id=order_id, now=world.clock()
    )
    assert after.quote.already_returned == Money(1000, payment.currency)
    assert after.held == Money(payment.amount - 1000, payment.currency)
    assert after.quote.refundable == min(
        before.quote.refundable - after.quote.already_returned, after.held
    )


def test_a_refund_naming_only_the_charge_finds_the_payment(world: World) -> None:
    order = world.place_order().order
    started = world.start(order.id)
    ref = started.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED, latest_charge="ch_paid_1"))
    world.process_all()
    payment = world.payment(started.payment.id)
    assert payment.capture_id == "ch_paid_1"

    world.deliver(refund_event("refund.created", dashboard_refund(payment, payment_intent=None)))
    world.process_all()

    (refund,) = world.view(order.id).refunds
    assert (refund.kind, refund.payment_id) == ("external", payment.id)


def test_a_refund_of_a_payment_we_do_not_know_is_still_ignored(world: World) -> None:
    order_id, payment = _paid(world)
    stranger = dashboard_refund(payment, payment_intent="pi_someone_else", charge="ch_else")

    row = world.deliver(refund_event("refund.created", stranger))
    world.process_all()

    assert world.event_row(row.event_id).status is WebhookStatus.IGNORED
    assert world.view(order_id).refunds == []


@pytest.mark.parametrize("changes", [{"amount": None}, {"currency": "eur"}, {"amount": 0}], ids=str)
def test_a_refund_of_ours_we_cannot_count_reaches_a_person(
    world: World, changes: dict[str, Any]
) -> None:
    order_id, payment = _paid(world)
    refund = dashboard_refund(payment)
    refund.update(changes)
    row = world.deliver(refund_event("refund.created", refund))

    world.process_all()

    event = world.event_row(row.event_id)
    assert event.status is WebhookStatus.RETRYING
    assert event.last_error is not None
    assert event.last_error.startswith("UnrecordableRefund")
    assert world.view(order_id).refunds == []
    assert world.view(order_id).status is OrderStatus.PAID


def test_our_own_refund_naming_its_payment_is_not_taken_for_an_external_one(
    world: World,
) -> None:
    order_id, first_id, _ = _overpay(world)
    (pending,) = world.view(order_id).refunds
    first = world.payment(first_id)
    ours = dashboard_refund(first, metadata={"refund_id": pending.id}, refund_id="re_ours")

    # The event arrives before the provider's answer to our request was recorded.
    world.deliver(refund_event("refund.created", ours))
    world.process_all()

    (refund,) = world.view(order_id).refunds
    assert (refund.id, refund.kind, refund.status) == (
        pending.id,
        "overpayment",
        RefundStatus.SUCCEEDED,
    )
    assert refund.provider_refund_id == "re_ours"
    assert "refund.recorded_external" not in world.actions(order_id)


def _paypal_payment(world: World, *, capture_id: str) -> PaymentRecord:
    """A PayPal attempt that succeeded, stored as the capture service leaves it."""
    order = world.place_order().order
    now = world.clock()
    payment = PaymentRecord(
        id=str(uuid.uuid4()),
        order_id=order.id,
        provider=ProviderName.PAYPAL,
        amount=order.total,
        currency=order.currency,
        status=PaymentStatus.SUCCEEDED,
        idempotency_key=f"eventpay-payment-{uuid.uuid4()}",
        created_at=now,
        updated_at=now,
        paypal_order_id=f"5O{uuid.uuid4().hex[:15].upper()}",
        amount_received=order.total,
        capture_id=capture_id,
    )
    with world.uow_factory() as uow:
        uow.payments.add(payment)
        uow.commit()
    return payment


def _apply(world: World, update: RefundUpdate) -> bool:
    with world.uow_factory() as uow:
        applied = apply_refund_update(
            uow,
            provider=ProviderName.PAYPAL,
            update=update,
            actor="paypal-webhook",
            now=world.clock(),
        )
        uow.commit()
    return applied


def test_a_paypal_refund_in_the_web_ui_is_found_by_its_capture(world: World) -> None:
    payment = _paypal_payment(world, capture_id="2GG279541U471931P")
    update = RefundUpdate(
        provider_refund_id="1JU08902781691411",
        refund_id_hint=None,
        status=ProviderRefundStatus.SUCCEEDED,
        capture_id="2GG279541U471931P",
        amount=Money(500, payment.currency),
    )

    assert _apply(world, update) is True
    assert _apply(world, update) is True  # the same news again

    view = world.view(payment.order_id)
    (refund,) = view.refunds
    assert (refund.provider, refund.kind, refund.amount) == (ProviderName.PAYPAL, "external", 500)
    assert refund.reason == "refunded at PayPal outside eventpay"
    assert view.status is OrderStatus.PARTIALLY_REFUNDED
    assert world.count(payment.order_id, "refund.recorded_external") == 1


def test_a_paypal_capture_id_is_not_looked_up_among_stripe_charges(world: World) -> None:
    order = world.place_order().order
    started = world.start(order.id)
    ref = started.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED, latest_charge="SAME-ID"))
    world.process_all()
    update = RefundUpdate(
        provider_refund_id="R1",
        refund_id_hint=None,
        status=ProviderRefundStatus.SUCCEEDED,
        capture_id="SAME-ID",
        amount=Money(100, order.currency),
    )

    assert _apply(world, update) is False
    assert world.view(order.id).refunds == []


def test_a_full_refund_releases_the_registrations_a_partial_one_keeps_them(world: World) -> None:
    order_id, payment = _paid(world)
    world.deliver(refund_event("refund.created", dashboard_refund(payment, amount=1000)))
    world.process_all()
    assert world.view(order_id).status is OrderStatus.PARTIALLY_REFUNDED
    assert [r.status.value for r in world.view(order_id).order.registrations] == ["confirmed"]

    rest = payment.amount - 1000
    world.deliver(refund_event("refund.created", dashboard_refund(payment, amount=rest)))
    world.process_all()

    view = world.view(order_id)
    assert view.status is OrderStatus.REFUNDED
    assert [r.status.value for r in view.order.registrations] == ["cancelled"]
    (row,) = [e for e in world.audit(order_id) if e.action == "registration.cancelled"]
    assert row.details["reason"] == "the order is refunded"
