"""The buyer coming back from a provider's hosted page (PayPal): capture, or cancel.

Entry points for the web layer's return and cancel links. The return captures through
`captures.capture_payment` (the same key as the webhook and the janitor), waiting briefly when
its capture is refused while another caller's may still be recording PayPal's answer, so the
buyer's client is told that answer (a decline: `failed`), not the attempt as read before. The
cancel link is public, so it only ever ends a PayPal attempt still waiting for its buyer, and
only after PayPal confirms the order was not approved meanwhile (in another tab).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from eventpay.ports import (
    Clock,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.captures import WAITING_FOR_BUYER, capture_payment, load_payment
from eventpay.services.errors import NotFound
from eventpay.services.settlement import end_attempt
from eventpay.services.views import load_owned

log = structlog.get_logger(__name__)


def capture_for_buyer(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment_id: str,
    caller: Principal,
    clock: Clock,
    wait: Callable[[float], None] = time.sleep,
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
        wait=wait,
    )


def return_from_provider(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment_id: str,
    provider_ref: str | None,
    clock: Clock,
    wait: Callable[[float], None] = time.sleep,
) -> PaymentRecord:
    """The buyer approved at PayPal and came back: capture (the link names both ids)."""
    return capture_payment(
        uow_factory=uow_factory,
        providers=providers,
        payment_id=payment_id,
        actor="buyer-return",
        clock=clock,
        provider_ref=provider_ref,
        wait=wait,
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

    Anything but a PayPal attempt still waiting for its buyer is returned unchanged: the
    redirect then shows the attempt's real status.
    """
    payment = load_payment(uow_factory, payment_id, provider_ref)
    gateway = providers.get(payment.provider)
    if payment.provider is not ProviderName.PAYPAL or payment.status not in WAITING_FOR_BUYER:
        return payment
    if gateway is None or payment.provider_ref is None:
        return payment
    try:
        current = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.cancel_not_confirmed", payment_id=payment.id, code=exc.code)
        return payment
    if current.status not in WAITING_FOR_BUYER:
        return payment
    return end_attempt(
        uow_factory,
        payment.id,
        ending=WAITING_FOR_BUYER,
        actor="buyer-return",
        now=clock(),
        source={"source": "buyer_cancelled_at_provider"},
    )
