"""Capturing approved payments (PayPal) exactly once.

The buyer's return from PayPal, the `CHECKOUT.ORDER.APPROVED` webhook and the janitor may all
ask to capture the same payment, at the same time. Each sends the capture with the SAME
provider idempotency key, derived from our attempt id, so the provider performs one capture
and replays it to the others; applying the answer goes through settlement under the
payment's row lock, so the order is paid (and `order.paid` audited) once. This is the race
behind pretix issue #1166 (two "payment received" mails). A capture repeated after PayPal
forgot the key is still one capture: PayPal answers ORDER_ALREADY_CAPTURED, which the adapter
reads as the success it is.

Approved money is only taken while the order still needs it (`collects_approved_payment`): a
PayPal approval that arrives after the order was paid another way ends the attempt instead of
capturing and then refunding.

A declined capture is not replayed: PayPal keeps only successful answers under a request id,
and sends the declined order back to its buyer, so whoever asks second is told
ORDER_NOT_APPROVED while the first caller is recording the decline. A refused capture therefore
answers the attempt as stored after the refusal, never as read before the call; and a caller
that must tell a buyer the outcome (the return page) passes `wait`, and is answered once
another caller's outcome is recorded, or after `SETTLE_WAIT_S` with the attempt as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog

from eventpay.domain import OrderStatus, PaymentStatus, collects_approved_payment
from eventpay.ports import (
    Clock,
    PaymentProvider,
    PaymentRecord,
    Principal,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, NotFound
from eventpay.services.settlement import end_attempt, places, record_provider_answer
from eventpay.services.views import order_status

log = structlog.get_logger(__name__)

# How long places taken again for a lapsed order's PayPal capture stay held should the capture
# not settle (a capture that succeeds confirms them at once).
HOLD_FOR_CAPTURE = timedelta(minutes=15)
DONE = (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED)
WAITING_FOR_BUYER = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)
# Another caller records PayPal's answer one order read after getting it; its decline webhook
# follows within seconds. Pauses double from the first to the longest.
SETTLE_WAIT_S = 5.0
FIRST_PAUSE_S = 0.05
LONGEST_PAUSE_S = 0.5


def capture_key(payment_id: str) -> str:
    return f"eventpay-capture-{payment_id}"


def load_payment(
    uow_factory: UnitOfWorkFactory, payment_id: str, provider_ref: str | None
) -> PaymentRecord:
    """The attempt; a return link names both our attempt and the provider's order: both must
    match, or it is NotFound."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id)
    if payment is None or (provider_ref is not None and payment.provider_ref != provider_ref):
        raise NotFound("payment_not_found", "No such payment.", {"payment_id": payment_id})
    return payment


def capture_payment(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment_id: str,
    actor: Principal | str,
    clock: Clock,
    provider_ref: str | None = None,
    wait: Callable[[float], None] | None = None,
) -> PaymentRecord:
    """Capture an approved payment; a finished one is returned unchanged.

    With `wait` (sleeps that many seconds), a refused capture waits for another caller's
    capture of the same attempt to be recorded (see the module docstring).
    """
    payment = load_payment(uow_factory, payment_id, provider_ref)
    if payment.status in DONE or payment.capture_id is not None:
        # Finished, or captured already (a PENDING capture): PayPal's word settles it.
        return payment
    if payment.provider_ref is None:
        raise Conflict("payment_not_started", "The payment has not reached the provider yet.")
    gateway = providers.get(payment.provider)
    if gateway is None:
        raise Conflict("provider_unavailable", f"{payment.provider.value} is not configured.")
    status = order_status(uow_factory, payment.order_id, now=clock())
    if not collects_approved_payment(status):
        return _skip_capture(uow_factory, gateway, payment, status, actor=actor, clock=clock)
    if not _places_held_again(uow_factory, payment, actor=actor, clock=clock):
        return _skip_capture(
            uow_factory,
            gateway,
            payment,
            status,
            actor=actor,
            clock=clock,
            reason="the order's places were sold after its reservation lapsed: the approved "
            "money is not taken",
        )
    try:
        answer = gateway.capture_payment(
            payment.provider_ref, idempotency_key=capture_key(payment.id)
        )
    except ProviderOutcomeUnknown as exc:
        # Unknown (or misconfigured): the janitor asks again with the same key.
        log.info("payment.capture_not_done", payment_id=payment.id, code=exc.code)
        return load_payment(uow_factory, payment.id, None)
    except ProviderRejected as exc:
        # Nothing happened at the provider for this call: not approved yet, or another
        # caller's capture with our key was declined and is being recorded.
        log.info("payment.capture_not_done", payment_id=payment.id, code=exc.code)
        return _recorded_outcome(uow_factory, payment.id, wait)
    return record_provider_answer(
        uow_factory=uow_factory, payment_id=payment.id, answer=answer, actor=actor, now=clock()
    )


def _places_held_again(
    uow_factory: UnitOfWorkFactory, payment: PaymentRecord, *, actor: Principal | str, clock: Clock
) -> bool:
    """Whether the lapsed order's released places could all be held again for the capture
    (`settlement.places.hold_again`); when not, nothing is kept and an audit row says which."""
    now = clock()
    with uow_factory() as uow:
        lost = places.hold_again(
            uow, payment.order_id, expires_at=now + HOLD_FOR_CAPTURE, actor=actor, now=now
        )
        if not lost:
            uow.commit()
            return True
        uow.rollback()
        audit.record(
            uow,
            entity_type="payment",
            entity_id=payment.id,
            payment_id=payment.id,
            order_id=payment.order_id,
            action="payment.not_captured_places_gone",
            actor=actor,
            now=now,
            details={"places": [{"stock_id": p.stock_id, "holder": p.holder} for p in lost]},
        )
        uow.commit()
        return False


def _settled(payment: PaymentRecord) -> bool:
    return payment.status in DONE or payment.capture_id is not None


def _recorded_outcome(
    uow_factory: UnitOfWorkFactory, payment_id: str, wait: Callable[[float], None] | None
) -> PaymentRecord:
    """The attempt as stored now; with `wait`, once settled or after `SETTLE_WAIT_S`."""
    payment = load_payment(uow_factory, payment_id, None)
    waited, pause = 0.0, FIRST_PAUSE_S
    while wait is not None and not _settled(payment) and waited < SETTLE_WAIT_S:
        step = min(pause, SETTLE_WAIT_S - waited)
        wait(step)
        waited, pause = waited + step, min(pause * 2, LONGEST_PAUSE_S)
        payment = load_payment(uow_factory, payment_id, None)
    if wait is not None and not _settled(payment):
        log.info("payment.capture_outcome_pending", payment_id=payment_id, waited_s=waited)
    return payment


def _skip_capture(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentProvider,
    payment: PaymentRecord,
    status: OrderStatus,
    *,
    actor: Principal | str,
    clock: Clock,
    reason: str | None = None,
) -> PaymentRecord:
    """End an attempt whose order needs no more money, once PayPal confirms nothing was taken.

    An earlier capture call may have gone through with its answer lost: then the money was
    taken after all, and the read settles it (an over-payment, refunded).
    """
    assert payment.provider_ref is not None  # checked by the caller
    current: ProviderPayment
    try:
        current = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.capture_skip_unconfirmed", payment_id=payment.id, code=exc.code)
        return payment
    if current.capture_id is not None or current.status is PaymentStatus.SUCCEEDED:
        return record_provider_answer(
            uow_factory=uow_factory, payment_id=payment.id, answer=current, actor=actor, now=clock()
        )
    log.info("payment.capture_skipped", payment_id=payment.id, order=status.value)
    return end_attempt(
        uow_factory,
        payment.id,
        ending=(*WAITING_FOR_BUYER, PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN),
        actor=actor,
        now=clock(),
        source={
            "source": "capture_skipped",
            "reason": reason or f"the order is {status.value}: the approved money is not taken",
        },
    )
