"""Starting a payment for an order.

A provider call never runs inside a database transaction: the attempt (with its idempotency
key) is committed first, the provider is called (`payment_calls`), and the answer is applied
in a second transaction by settlement. If the process dies in between, the attempt is
`created` or `unknown` with its key stored, and the janitor calls the provider again with the
same key, which returns the same provider object: retries cannot create a second charge.

A currency or amount the chosen provider cannot take is refused here, with 422, before any
call (`PaymentProvider.refusal_for`), naming the providers that can.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import Money, OrderStatus, PaymentStatus, first_check_at
from eventpay.domain.places import PlaceStatus
from eventpay.ports import (
    Clock,
    OrderRecord,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
    connect_of,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, Unavailable
from eventpay.services.payment_calls import ReturnUrls, call_provider
from eventpay.services.settlement import record_provider_answer
from eventpay.services.settlement.connect import plan_charge
from eventpay.services.settlement.ledger import shares_of
from eventpay.services.views import load_owned, view_of

__all__ = ["PaymentStart", "ReturnUrls", "start_payment"]

_REUSABLE = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class PaymentStart:
    payment: PaymentRecord
    client_secret: str | None
    approve_url: str | None


def _prepare(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    order_id: str,
    provider: ProviderName,
    return_url: str | None,
    now: datetime,
) -> tuple[PaymentRecord, OrderRecord]:
    """Commit a new attempt, or pick an open one to reuse; returns it with its order."""
    with uow_factory() as uow:
        order = load_owned(uow, order_id=order_id, caller=caller, for_update=True)
        view = view_of(uow, order, now=now)
        if view.status is not OrderStatus.AWAITING_PAYMENT:
            code = "order_already_paid" if view.status is OrderStatus.PAID else "order_not_payable"
            raise Conflict(
                code,
                f"The order cannot be paid: it is {view.status.value}.",
                {"status": view.status.value},
            )
        released = [p for p in uow.places.for_order(order.id) if p.status is PlaceStatus.RELEASED]
        if released:
            # Still awaiting payment, so its places went to the buyer's newer order for them:
            # taking money now would only mean refunding it.
            raise Conflict(
                "order_superseded",
                "This order's places were released for a newer order of yours; pay that one.",
                {"released": [p.stock_id for p in released]},
            )
        in_flight = [p.id for p in view.payments if p.status is PaymentStatus.PROCESSING]
        if in_flight:
            # Money is on its way (a bank debit, an approved PayPal order, a pending capture):
            # a second attempt now would charge the buyer twice.
            raise Conflict(
                "payment_in_progress",
                "A payment for this order is being processed; wait for its outcome.",
                {"payment_ids": in_flight},
            )
        due = view.summary.balance_due.amount
        _check_amount(providers, provider, Money(due, order.currency))
        for existing in reversed(view.payments):
            if (
                existing.provider is provider
                and existing.status in _REUSABLE
                and existing.amount == due
            ):
                return existing, order
        payment_id = str(uuid.uuid4())
        payment = PaymentRecord(
            id=payment_id,
            order_id=order.id,
            provider=provider,
            amount=due,
            currency=order.currency,
            status=PaymentStatus.CREATED,
            # Derived from the attempt: whoever retries this attempt sends the same key.
            idempotency_key=f"eventpay-payment-{payment_id}",
            created_at=now,
            updated_at=now,
            return_url=return_url,
            next_check_at=first_check_at(PaymentStatus.CREATED, now=now),
        )
        # The seed's metadata, so a provider object can always be traced back to us, even
        # when the create call's answer was lost.
        registration = order.registrations[0] if order.registrations else None
        payment.metadata = {
            "payment_id": payment.id,
            "order_id": order.id,
            "competitor_id": order.buyer_id,
            "event_id": registration.event_id if registration else "",
            "registration_id": registration.id if registration else "",
        }
        charge = None
        if connect_of(providers[provider]) is not None:
            net_paid = view.summary.net_paid.amount
            charge = plan_charge(uow, payment, shares_of(uow, order), net_paid=net_paid, now=now)
        uow.payments.add(payment)
        if charge is not None:
            uow.connect.add_charge(charge)
        audit.record(
            uow,
            entity_type="payment",
            entity_id=payment.id,
            payment_id=payment.id,
            order_id=order.id,
            action="payment.created",
            actor=caller,
            now=now,
            details={"provider": provider.value, "amount": due, "currency": order.currency},
        )
        uow.commit()
        return payment, order


def start_payment(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    order_id: str,
    provider: ProviderName,
    return_url: str | None,
    clock: Clock,
    urls: ReturnUrls | None = None,
) -> PaymentStart:
    gateway = providers.get(provider)
    if gateway is None:
        raise InvalidRequest(
            "provider_unavailable",
            f"Payments with {provider.value} are not available.",
            {"provider": provider.value, "available": sorted(p.value for p in providers)},
        )
    payment, order = _prepare(
        uow_factory=uow_factory,
        providers=providers,
        caller=caller,
        order_id=order_id,
        provider=provider,
        return_url=return_url,
        now=clock(),
    )
    try:
        answer: ProviderPayment | ProviderOutcomeUnknown | ProviderRejected = call_provider(
            gateway, order, payment, urls=urls, now=clock()
        )
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        answer = exc
    payment = record_provider_answer(
        uow_factory=uow_factory, payment_id=payment.id, answer=answer, actor=caller, now=clock()
    )
    if isinstance(answer, ProviderOutcomeUnknown):
        raise Unavailable(
            "provider_outcome_unknown",
            "The payment provider did not answer in time; try again shortly.",
            {"payment_id": payment.id},
        )
    if isinstance(answer, ProviderRejected):
        # A definite refusal: retrying the same request cannot help, so not a 5xx.
        raise InvalidRequest(
            "provider_rejected",
            "The payment provider refused to start this payment.",
            {"payment_id": payment.id, "provider_code": answer.code},
        )
    return PaymentStart(
        payment=payment, client_secret=answer.client_secret, approve_url=answer.approve_url
    )


def _check_amount(providers: ProviderRegistry, provider: ProviderName, amount: Money) -> None:
    """422 before any call when `provider` cannot take the amount due or its currency."""
    refusal = providers[provider].refusal_for(amount)
    if refusal is None:
        return
    others = sorted(
        name.value
        for name, other in providers.items()
        if name is not provider and other.refusal_for(amount) is None
    )
    raise InvalidRequest(
        "currency_not_supported",
        f"{refusal} Pay with another provider." if others else refusal,
        {"provider": provider.value, "currency": amount.currency, "available": others},
    )
