"""Starting a payment for an order, and resolving attempts whose outcome is unknown.

A provider call never runs inside a database transaction: the attempt (with its idempotency
key) is committed first, the provider is called, and the answer is applied in a second
transaction through `settlement.apply_status`. If the process dies in between, the attempt is
`created` or `unknown` with its key stored, and calling the provider again with the same key
returns the same provider object: retries cannot create a second charge.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from eventpay.domain import Money, OrderStatus, PaymentStatus
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    CreatePayment,
    OrderRecord,
    PaymentLine,
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
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, Unavailable
from eventpay.services.orders import load_owned, view_of
from eventpay.services.settlement import apply_status

log = structlog.get_logger(__name__)

_REUSABLE = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class PaymentStart:
    payment: PaymentRecord
    client_secret: str | None
    approve_url: str | None


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    """Where a provider's hosted page sends the buyer back: this service's own routes."""

    base: str

    def for_payment(self, payment_id: str) -> tuple[str, str]:
        root = f"{self.base.rstrip('/')}/v1/payments/{payment_id}/paypal"
        return f"{root}/return", f"{root}/cancel"


def _request_for(
    order: OrderRecord, payment: PaymentRecord, *, urls: ReturnUrls | None
) -> CreatePayment:
    """The create request, rebuilt identically every time (a retry must match the first)."""
    amount = Money(payment.amount, payment.currency)
    lines = [PaymentLine(ln.description, order.money(ln.amount)) for ln in order.lines]
    if sum(ln.amount for ln in order.lines) != payment.amount:
        lines = [PaymentLine(f"Balance of order {order.id}", amount)]
    return_url, cancel_url = urls.for_payment(payment.id) if urls else (None, None)
    return CreatePayment(
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=amount,
        idempotency_key=payment.idempotency_key,
        description=f"Car Audio Events order {payment.order_id}",
        metadata=payment.metadata,
        return_url=return_url,
        cancel_url=cancel_url,
        lines=lines,
    )


def _prepare(
    *,
    uow_factory: UnitOfWorkFactory,
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
        uow.payments.add(payment)
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


def _call_provider(
    gateway: PaymentProvider,
    order: OrderRecord,
    payment: PaymentRecord,
    *,
    urls: ReturnUrls | None,
) -> ProviderPayment:
    if payment.provider_ref is not None:
        return gateway.retrieve_payment(payment.provider_ref)
    return gateway.create_payment(_request_for(order, payment, urls=urls))


def record_provider_answer(
    *,
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    answer: ProviderPayment | ProviderOutcomeUnknown | ProviderRejected,
    actor: Principal | str,
    now: datetime,
    source: Mapping[str, str] | None = None,
) -> PaymentRecord:
    """Apply what a provider call answered, in one transaction; `source` goes to the audit."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id, for_update=True)
        if payment is None:  # pragma: no cover - committed by _prepare
            raise LookupError(payment_id)
        source = source or {"source": "provider_call"}
        if isinstance(answer, ProviderOutcomeUnknown):
            apply_status(uow, payment, PaymentStatus.UNKNOWN, actor=actor, now=now, source=source)
        elif isinstance(answer, ProviderRejected):
            apply_status(
                uow,
                payment,
                PaymentStatus.FAILED,
                actor=actor,
                now=now,
                source=source,
                failure_code=answer.code,
                failure_message=answer.message,
            )
        else:
            if payment.provider_ref is None:
                payment.link_provider_ref(answer.provider_ref)
                payment.updated_at = now
                uow.payments.save(payment)
                audit.record_payment(
                    uow,
                    payment,
                    "payment.provider_linked",
                    actor=actor,
                    now=now,
                    details={"provider_ref": answer.provider_ref},
                )
            received = answer.amount_received
            if answer.amount.currency != payment.currency:
                # Never count money in another currency toward the order.
                received = 0
                audit.record_payment(
                    uow,
                    payment,
                    "payment.amount_mismatch",
                    actor=actor,
                    now=now,
                    details={
                        **source,
                        "expected_currency": payment.currency,
                        "provider_currency": answer.amount.currency,
                    },
                )
            if answer.capture_id and payment.capture_id != answer.capture_id:
                payment.capture_id = answer.capture_id
                uow.payments.save(payment)
            apply_status(
                uow,
                payment,
                answer.status,
                actor=actor,
                now=now,
                source=source,
                failure_code=answer.failure_code,
                failure_message=answer.failure_message,
                amount_received=received,
                observed=True,
            )
        uow.commit()
        return payment


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
        caller=caller,
        order_id=order_id,
        provider=provider,
        return_url=return_url,
        now=clock(),
    )
    try:
        answer: ProviderPayment | ProviderOutcomeUnknown | ProviderRejected = _call_provider(
            gateway, order, payment, urls=urls
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


def touch(
    uow_factory: UnitOfWorkFactory,
    payment_id: str,
    now: datetime,
    *,
    status: PaymentStatus = PaymentStatus.UNKNOWN,
) -> None:
    """Move an attempt still in `status` to the back of the janitor's queue (oldest first)."""
    with uow_factory() as uow:
        payment = uow.payments.get(payment_id, for_update=True)
        if payment is not None and payment.status is status:
            payment.updated_at = now
            uow.payments.save(payment)
            uow.commit()


def resolve_unknown(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    urls: ReturnUrls | None = None,
    limit: int = 50,
) -> int:
    """Ask providers about attempts whose outcome is unknown; returns how many were resolved.

    Re-sending the create with the stored idempotency key is safe: the provider replays its
    first answer, or creates the object now if the first call never arrived.
    """
    with uow_factory() as uow:
        pending = [
            (payment, uow.orders.get(payment.order_id))
            for payment in uow.payments.list_by_status(PaymentStatus.UNKNOWN, limit=limit)
        ]
    resolved = 0
    for payment, order in pending:
        gateway = providers.get(payment.provider)
        if gateway is None or order is None:
            continue
        try:
            answer = _call_provider(gateway, order, payment, urls=urls)
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info("payment.still_unknown", payment_id=payment.id, code=exc.code)
            touch(uow_factory, payment.id, clock())
            continue
        except Exception:
            log.exception("payment.resolve_failed", payment_id=payment.id)
            touch(uow_factory, payment.id, clock())
            continue
        record_provider_answer(
            uow_factory=uow_factory,
            payment_id=payment.id,
            answer=answer,
            actor=SYSTEM_ACTOR,
            now=clock(),
        )
        resolved += 1
    return resolved
