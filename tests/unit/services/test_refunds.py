"""Automatic refund of an over-payment: requested with the settlement, sent once, audited."""

from __future__ import annotations

from eventpay.domain import OrderStatus, PaymentStatus, RefundStatus
from eventpay.ports import ProviderOutcomeUnknown
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
    assert execute_pending_refunds(**kwargs) == 1  # type: ignore[arg-type]
    assert len(world.provider.refunds) == 1
    assert world.view(order_id).refunds[0].status is RefundStatus.SUCCEEDED
