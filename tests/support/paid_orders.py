"""An order paid by card at the Stripe sandbox and read back by the core, for ledger tests.

The core's own path, without a web client or a worker: create the order, start the Stripe
payment, confirm it as Stripe.js would, then record the provider's answer (the read includes
the charge's balance transaction, so Stripe's fee is booked too).

One competitor holds a class of an event once (issue 9): a second order of theirs for it is
refused once the first is paid. `paid_order` therefore buys as a new competitor each time
unless told whom (`new_buyer`).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from eventpay.bootstrap import Container
from eventpay.ports import Principal, ProviderName, Role
from eventpay.services import orders, payments
from eventpay.services.payments import PaymentStart
from eventpay.services.settlement import record_provider_answer
from support.api import confirm_at_sandbox

BUYER = Principal(user_id="competitor-ledger", role=Role.COMPETITOR)


def new_buyer(prefix: str = BUYER.user_id) -> Principal:
    """A competitor who holds no place yet (`prefix-` and a random suffix)."""
    return Principal(user_id=f"{prefix}-{uuid.uuid4().hex[:8]}", role=Role.COMPETITOR)


def new_order(
    c: Container,
    *,
    buyer: Principal = BUYER,
    event_id: str = "spring-sound-off",
    class_id: str = "spring-spl",
) -> str:
    """The id of a new order of one entry (Spring SPL unless told), awaiting payment."""
    return orders.create_order(
        uow=c.uow_factory(),
        buyer=buyer,
        items=[orders.RegistrationItem(event_id=event_id, class_ids=(class_id,))],
        promo_code=None,
        fee_policy=c.fee_policy,
        now=c.clock(),
        expires_in=timedelta(hours=1),
    ).order.id


def start_card_payment(c: Container, order_id: str, *, buyer: Principal = BUYER) -> PaymentStart:
    """A Stripe payment attempt of the order, not confirmed yet."""
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
    return started


def record_read(c: Container, started: PaymentStart, *, with_fee: bool = True) -> None:
    """Read the attempt at Stripe and record the answer (its fee too, unless told: as a
    webhook says it, before the fee is known)."""
    assert started.payment.provider_ref is not None
    answer = c.providers[ProviderName.STRIPE].retrieve_payment(started.payment.provider_ref)
    record_provider_answer(
        uow_factory=c.uow_factory,
        payment_id=started.payment.id,
        answer=answer if with_fee else dataclasses.replace(answer, fee=None),
        actor="test",
        now=c.clock(),
    )


def paid_order(
    c: Container,
    sandbox: str,
    *,
    buyer: Principal | None = None,
    event_id: str = "spring-sound-off",
    class_id: str = "spring-spl",
    with_fee: bool = True,
) -> str:
    """The id of a new order of one entry (Spring SPL unless told), paid by card and recorded
    as succeeded (with Stripe's fee unless told), by `buyer` or else a new competitor."""
    buyer = buyer or new_buyer()
    order_id = new_order(c, buyer=buyer, event_id=event_id, class_id=class_id)
    started = start_card_payment(c, order_id, buyer=buyer)
    confirm_at_sandbox(sandbox, str(started.client_secret), "pm_card_visa").raise_for_status()
    record_read(c, started, with_fee=with_fee)
    return order_id
