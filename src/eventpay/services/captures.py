"""Capturing approved payments (PayPal) exactly once, and the buyer cancelling at the provider.

The buyer's return from PayPal, the `CHECKOUT.ORDER.APPROVED` webhook and the janitor may all
ask to capture the same payment, at the same time. Each sends the capture with the SAME
provider idempotency key, derived from our attempt id, so the provider performs one capture
and replays it to the others; applying the answer goes through `settlement.apply_status` under
the payment's row lock, so the order is paid (and `order.paid` audited) once. This is the race
behind pretix issue #1166 (two "payment received" mails).

Approved money is only taken while the order still needs it (`collects_approved_payment`): a
PayPal approval that arrives after the order was paid another way ends the attempt instead of
capturing and then refunding. And because the buyer's return and the webhook can both be lost,
the janitor reads PayPal attempts that have waited a while and finishes what it finds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from eventpay.domain import OrderStatus, PaymentStatus, collects_approved_payment
from eventpay.ports import (
    Clock,
    PaymentProvider,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services import orders
from eventpay.services.errors import Conflict, NotFound
from eventpay.services.orders import load_owned
from eventpay.services.payments import record_provider_answer, touch
from eventpay.services.settlement import apply_status

log = structlog.get_logger(__name__)

_DONE = (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED)
_WAITING_FOR_BUYER = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)

READ_AFTER = timedelta(seconds=60)
"""How long a PayPal attempt waits for its buyer's return or webhook before the janitor asks."""
READ_FOR = timedelta(hours=72)
"""How long after creation the janitor keeps asking; later, only a webhook can settle it."""


def capture_key(payment_id: str) -> str:
    return f"eventpay-capture-{payment_id}"


def _load(
    uow_factory: UnitOfWorkFactory, payment_id: str, provider_ref: str | None
) -> PaymentRecord:
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id)
    # A return link names both our attempt and the provider's order: both must match.
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
) -> PaymentRecord:
    """Capture an approved payment; a finished one is returned unchanged."""
    payment = _load(uow_factory, payment_id, provider_ref)
    if payment.status in _DONE or payment.capture_id is not None:
        # Finished, or captured already (a PENDING capture): PayPal's word settles it.
        return payment
    if payment.provider_ref is None:
        raise Conflict("payment_not_started", "The payment has not reached the provider yet.")
    gateway = providers.get(payment.provider)
    if gateway is None:
        raise Conflict("provider_unavailable", f"{payment.provider.value} is not configured.")
    order_status = orders.order_status(uow_factory, payment.order_id, now=clock())
    if not collects_approved_payment(order_status):
        return _skip_capture(uow_factory, gateway, payment, order_status, actor=actor, clock=clock)
    answer: ProviderPayment | ProviderOutcomeUnknown | ProviderRejected
    try:
        answer = gateway.capture_payment(
            payment.provider_ref, idempotency_key=capture_key(payment.id)
        )
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        # Unknown: the janitor asks again with the same key. Rejected (e.g. not approved yet):
        # nothing happened at the provider, so nothing changes here.
        log.info("payment.capture_not_done", payment_id=payment.id, code=exc.code)
        answer = exc
    if isinstance(answer, ProviderPayment):
        return record_provider_answer(
            uow_factory=uow_factory, payment_id=payment.id, answer=answer, actor=actor, now=clock()
        )
    return payment


def _skip_capture(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentProvider,
    payment: PaymentRecord,
    order_status: OrderStatus,
    *,
    actor: Principal | str,
    clock: Clock,
) -> PaymentRecord:
    """End an attempt whose order needs no more money, once PayPal confirms nothing was taken.

    An earlier capture call may have gone through with its answer lost: then the money was
    taken after all, and the read settles it (an over-payment, refunded).
    """
    assert payment.provider_ref is not None  # checked by the caller
    try:
        current = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.capture_skip_unconfirmed", payment_id=payment.id, code=exc.code)
        return payment
    if current.capture_id is not None or current.status is PaymentStatus.SUCCEEDED:
        return record_provider_answer(
            uow_factory=uow_factory, payment_id=payment.id, answer=current, actor=actor, now=clock()
        )
    log.info("payment.capture_skipped", payment_id=payment.id, order=order_status.value)
    return _end_attempt(
        uow_factory,
        payment.id,
        ending=(*_WAITING_FOR_BUYER, PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN),
        actor=actor,
        now=clock(),
        source={
            "source": "capture_skipped",
            "reason": f"the order is {order_status.value}: the approved money is not taken",
        },
    )


def _end_attempt(
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    *,
    ending: Collection[PaymentStatus],
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, Any],
) -> PaymentRecord:
    """Cancel the attempt if, under its row lock, it is still in one of the `ending` statuses."""
    with uow_factory() as uow:
        locked = uow.payments.get(payment_id, for_update=True)
        if locked is None:  # pragma: no cover - loaded by the caller
            raise NotFound("payment_not_found", "No such payment.")
        if locked.status in ending:
            apply_status(uow, locked, PaymentStatus.CANCELED, actor=actor, now=now, source=source)
        uow.commit()
        return locked


def capture_for_buyer(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment_id: str,
    caller: Principal,
    clock: Clock,
) -> PaymentRecord:
    """`capture_payment` for an API caller, who must own the payment's order."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id)
        if payment is None:
            raise NotFound("payment_not_found", "No such payment.", {"payment_id": payment_id})
        load_owned(uow, order_id=payment.order_id, caller=caller)
    return capture_payment(
        uow_factory=uow_factory,
        providers=providers,
        payment_id=payment_id,
        actor=caller,
        clock=clock,
    )


def cancel_by_buyer(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment_id: str,
    provider_ref: str | None,
    clock: Clock,
) -> PaymentRecord:
    """The buyer left PayPal's page with "cancel": the attempt ends, the order waits.

    The link is public, so it only ever ends a PayPal attempt that is still waiting for the
    buyer, and only after PayPal confirms the order was not approved meanwhile (another tab).
    Anything else is returned unchanged: the redirect then shows the attempt's real status.
    """
    payment = _load(uow_factory, payment_id, provider_ref)
    gateway = providers.get(payment.provider)
    if payment.provider is not ProviderName.PAYPAL or payment.status not in _WAITING_FOR_BUYER:
        return payment
    if gateway is None or payment.provider_ref is None:
        return payment
    try:
        current = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.cancel_not_confirmed", payment_id=payment.id, code=exc.code)
        return payment
    if current.status not in _WAITING_FOR_BUYER:
        return payment
    return _end_attempt(
        uow_factory,
        payment.id,
        ending=_WAITING_FOR_BUYER,
        actor="buyer-return",
        now=clock(),
        source={"source": "buyer_cancelled_at_provider"},
    )


def capture_approved(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = 50,
    read_after: timedelta = READ_AFTER,
) -> int:
    """Janitor: finish PayPal checkouts whose buyer return or webhook never came (or failed).

    First, attempts still waiting for the buyer after `read_after` are read from PayPal: one the
    buyer approved meanwhile moves to `processing` (a completed one to `succeeded`). Then every
    approved attempt without a capture is captured, with the key every other caller uses.
    Returns how many capture calls were made.
    """
    _read_waiting(
        uow_factory=uow_factory,
        providers=providers,
        clock=clock,
        limit=limit,
        read_after=read_after,
    )
    with uow_factory() as uow:
        waiting = [
            p
            for p in uow.payments.list_by_status(
                PaymentStatus.PROCESSING, limit=limit, provider=ProviderName.PAYPAL
            )
            if p.capture_id is None
        ]
    for payment in waiting:
        try:
            capture_payment(
                uow_factory=uow_factory,
                providers=providers,
                payment_id=payment.id,
                actor="janitor",
                clock=clock,
            )
        except Exception:
            log.exception("payment.janitor_capture_failed", payment_id=payment.id)
    return len(waiting)


def _read_waiting(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int,
    read_after: timedelta,
) -> None:
    gateway = providers.get(ProviderName.PAYPAL)
    if gateway is None:
        return
    now = clock()
    with uow_factory() as uow:
        waiting = uow.payments.list_by_status(
            PaymentStatus.REQUIRES_ACTION,
            limit=limit,
            provider=ProviderName.PAYPAL,
            updated_before=now - read_after,
            created_after=now - READ_FOR,
        )
    for payment in waiting:
        if payment.provider_ref is None:  # pragma: no cover - requires_action has a PayPal order
            continue
        try:
            answer = gateway.retrieve_payment(payment.provider_ref)
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info("payment.read_failed", payment_id=payment.id, code=exc.code)
            answer = None
        if answer is None or answer.status is PaymentStatus.REQUIRES_ACTION:
            # Still with the buyer: to the back of the queue, asked again after `read_after`.
            touch(uow_factory, payment.id, clock(), status=PaymentStatus.REQUIRES_ACTION)
            continue
        record_provider_answer(
            uow_factory=uow_factory,
            payment_id=payment.id,
            answer=answer,
            actor="janitor",
            now=clock(),
        )
