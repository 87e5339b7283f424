"""Automatic refund of an over-payment: requested with the settlement, sent once, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eventpay.domain import OrderStatus, PaymentStatus, RefundStatus
from eventpay.ports import ProviderOutcomeUnknown
from eventpay.services.errors import Unavailable
from eventpay.services.refunds import execute_pending_refunds

from .scenario import World
from .test_settlement import two_attempts


def _overpay(world: World) -> tuple[str, str, str]:
    order_id, (first_id, first_ref), (_second_id, second_ref) = two_attempts(world)
    world.deliver(world.report(second_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    world.deliver(world.report(first_ref, PaymentStatus.SUCCEEDED))
    world.process_all()
    return order_id, first_id, first_ref


def test_overpayment_requests_a_refund_of_the_extra_payment(world: World) -> None:
    order_id, first_id, _ = _overpay(world)
    view = world.view(order_id)
    (refund,) = view.refunds
    assert refund.status is RefundStatus.PENDING
    assert refund.payment_id == first_id
    assert refund.amount == view.order.total
    assert refund.kind == "overpayment"
    assert "already paid" in refund.reason
    assert world.count(order_id, "refund.requested") == 1


def test_pending_refund_is_sent_once_and_the_order_stays_paid(world: World) -> None:
    order_id, _, first_ref = _overpay(world)
    providers = world.providers
    assert (
        execute_pending_refunds(
            uow_factory=world.uow_factory, providers=providers, clock=world.clock
        )
        == 1
    )
    assert (
        execute_pending_refunds(
            uow_factory=world.uow_factory, providers=providers, clock=world.clock
        )
        == 0
    )
    view = world.view(order_id)
    (refund,) = view.refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.provider_refund_id is not None
    assert refund.provider_refund_id.startswith(first_ref)
    assert len(world.provider.refunds) == 1
    assert view.status is OrderStatus.PAID
    assert view.summary.net_paid.amount == view.order.total
    assert world.count(order_id, "refund.succeeded") == 1


def test_a_lost_refund_answer_is_asked_again_with_the_same_key(world: World) -> None:
    order_id, _, _ = _overpay(world)
    world.provider.fail_next(ProviderOutcomeUnknown("timeout", "lost"), took_effect=True)
    kwargs = {"uow_factory": world.uow_factory, "providers": world.providers, "clock": world.clock}
    assert execute_pending_refunds(**kwargs) == 0  # type: ignore[arg-type]
    assert world.view(order_id).refunds[0].status is RefundStatus.PENDING
    assert execute_pending_refunds(**kwargs) == 0  # type: ignore[arg-type]  # backing off
    world.clock.advance(minutes=1)
    assert execute_pending_refunds(**kwargs) == 1  # type: ignore[arg-type]
    assert len(world.provider.refunds) == 1
    assert world.view(order_id).refunds[0].status is RefundStatus.SUCCEEDED


def _refund_event(
    world: World, refund_id: str, provider_ref: str, status: str
) -> dict[str, object]:
    from .fakes import stripe_event

    return stripe_event(
        f"refund.{'failed' if status == 'failed' else 'updated'}",
        {
            "id": provider_ref,
            "object": "refund",
            "status": status,
            "metadata": {"refund_id": refund_id},
            "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        },
    )


def test_a_refund_that_fails_later_is_recorded_and_audited(world: World) -> None:
    order_id, _, _ = _overpay(world)
    kwargs = {"uow_factory": world.uow_factory, "providers": world.providers, "clock": world.clock}
    execute_pending_refunds(**kwargs)  # type: ignore[arg-type]
    (refund,) = world.view(order_id).refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.provider_refund_id is not None
    world.deliver(_refund_event(world, refund.id, refund.provider_refund_id, "failed"))
    world.process_all()
    (failed,) = world.view(order_id).refunds
    assert failed.status is RefundStatus.FAILED
    assert failed.failure_reason == "expired_or_canceled_card"
    assert world.count(order_id, "refund.failed") == 1
    # The money is back with the merchant: net paid is twice the total again, for a person.
    view = world.view(order_id)
    assert view.summary.net_paid.amount == 2 * view.order.total
    # A replayed success report is older news and changes nothing.
    world.deliver(_refund_event(world, refund.id, refund.provider_refund_id, "succeeded"))
    world.process_all()
    assert world.view(order_id).refunds[0].status is RefundStatus.FAILED


def test_a_refund_event_found_by_our_id_before_the_answer_was_recorded(world: World) -> None:
    order_id, _, _ = _overpay(world)
    (pending,) = world.view(order_id).refunds
    world.deliver(_refund_event(world, pending.id, "re_from_the_webhook", "succeeded"))
    world.process_all()
    (refund,) = world.view(order_id).refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.provider_refund_id == "re_from_the_webhook"


def test_a_refund_we_never_made_is_ignored(world: World) -> None:
    _overpay(world)
    row = world.deliver(_refund_event(world, "not-ours", "re_foreign", "succeeded"))
    world.process_all()
    assert world.event_row(row.event_id).status.value == "ignored"


def test_a_broken_attempt_does_not_starve_the_janitor(world: World) -> None:
    from datetime import timedelta

    from eventpay.bootstrap import Container
    from eventpay.config import Settings
    from eventpay.domain import FeePolicy
    from eventpay.metrics import Metrics
    from eventpay.services.webhooks import RetryPolicy
    from eventpay.worker import Worker

    order_id, _, _ = _overpay(world)
    # Another order whose create answer was lost: the janitor will ask the provider again...
    other = world.place_order(buyer=world.new_buyer()).order
    world.provider.fail_next(ProviderOutcomeUnknown("timeout", "lost"))
    with pytest.raises(Unavailable):
        world.start(other.id)
    # ...and that call hits a bug (not a provider error).
    world.provider.fail_next(RuntimeError("a bug in the adapter"))  # type: ignore[arg-type]
    container = Container(
        settings=Settings(environment="test"),
        engine=None,  # type: ignore[arg-type]
        uow_factory=world.uow_factory,  # type: ignore[arg-type]
        providers=world.providers,  # type: ignore[arg-type]
        verifiers={},
        fee_policy=FeePolicy(percent=Decimal("0"), fixed_minor=0),
        retry=RetryPolicy(),
        metrics=Metrics(),
        clock=world.clock,
        order_expiry=timedelta(hours=1),
    )
    Worker(container).run_janitor()
    (refund,) = world.view(order_id).refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert [p.status for p in world.view(other.id).payments] == [PaymentStatus.UNKNOWN]
