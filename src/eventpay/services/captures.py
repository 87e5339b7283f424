"""Capturing approved payments (PayPal) exactly once, and the buyer cancelling at the provider.

The buyer's return from PayPal, the `CHECKOUT.ORDER.APPROVED` webhook and the janitor may all
ask to capture the same payment, at the same time. Each sends the capture with the SAME
provider idempotency key, derived from our attempt id, so the provider performs one capture
and replays it to the others; applying the answer goes through `settlement.apply_status` under
the payment's row lock, so the order is paid (and `order.paid` audited) once. This is the race
behind pretix issue #1166 (two "payment received" mails).
"""

from __future__ import annotations

import structlog

from eventpay.domain import PaymentStatus
from eventpay.ports import (
    Clock,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.errors import Conflict, NotFound
from eventpay.services.orders import load_owned
from eventpay.services.payments import record_provider_answer
from eventpay.services.settlement import apply_status

log = structlog.get_logger(__name__)

_DONE = (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED)


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
    if payment.status in _DONE:
        return payment
    if payment.provider_ref is None:
        raise Conflict("payment_not_started", "The payment has not reached the provider yet.")
    gateway = providers.get(payment.provider)
    if gateway is None:
        raise Conflict("provider_unavailable", f"{payment.provider.value} is not configured.")
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
    waiting = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)
    gateway = providers.get(payment.provider)
    if payment.provider is not ProviderName.PAYPAL or payment.status not in waiting:
        return payment
    if gateway is None or payment.provider_ref is None:
        return payment
    try:
        current = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.cancel_not_confirmed", payment_id=payment.id, code=exc.code)
        return payment
    if current.status not in waiting:
        return payment
    with uow_factory() as uow:
        locked = uow.payments.get(payment.id, for_update=True)
        if locked is None:  # pragma: no cover - loaded just above
            raise NotFound("payment_not_found", "No such payment.")
        if locked.status in waiting:
            apply_status(
                uow,
                locked,
                PaymentStatus.CANCELED,
                actor="buyer-return",
                now=clock(),
                source={"source": "buyer_cancelled_at_provider"},
            )
        uow.commit()
        return locked


def capture_approved(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock, limit: int = 50
) -> int:
    """Janitor: capture PayPal attempts that were approved but whose capture never finished."""
    with uow_factory() as uow:
        waiting = [
            p
            for p in uow.payments.list_by_status(PaymentStatus.PROCESSING, limit=limit)
            if p.provider is ProviderName.PAYPAL and p.capture_id is None
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
