"""An order paid by card at the Stripe sandbox and read back by the core, for ledger tests.

The core's own path, without a web client or a worker: create the order, start the Stripe
payment, confirm it as Stripe.js would, then record the provider's answer (the read includes
the charge's balance transaction, so Stripe's fee is booked too).
"""

from __future__ import annotations

from datetime import timedelta

from eventpay.bootstrap import Container
from eventpay.ports import Principal, ProviderName, Role
from eventpay.services import orders, payments
from eventpay.services.settlement import record_provider_answer
from support.api import confirm_at_sandbox

BUYER = Principal(user_id="competitor-ledger", role=Role.COMPETITOR)


def paid_order(
    c: Container,
    sandbox: str,
    *,
    buyer: Principal = BUYER,
    event_id: str = "spring-sound-off",
    class_id: str = "spring-spl",
) -> str:
    """The id of a new order of one entry (Spring SPL unless told), paid and recorded as
    succeeded."""
    order_id = orders.create_order(
        uow=c.uow_factory(),
        buyer=buyer,
        items=[orders.RegistrationItem(event_id=event_id, class_ids=(class_id,))],
        promo_code=None,
        fee_policy=c.fee_policy,
        now=c.clock(),
        expires_in=timedelta(hours=1),
    ).order.id
    started = payments.start_payment(
        uow_factory=c.uow_factory,
        providers=c.providers,
        caller=buyer,
        order_id=order_id,
        provider=ProviderName.STRIPE,
        return_url=None,
        clock=c.clock,
    )
    assert started.client_secret is not None
    assert started.payment.provider_ref is not None
    confirm_at_sandbox(sandbox, started.client_secret, "pm_card_visa").raise_for_status()
    record_provider_answer(
        uow_factory=c.uow_factory,
        payment_id=started.payment.id,
        answer=c.providers[ProviderName.STRIPE].retrieve_payment(started.payment.provider_ref),
        actor="test",
        now=c.clock(),
    )
    return order_id
