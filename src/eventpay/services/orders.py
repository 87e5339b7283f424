"""Order use cases: price a basket from the catalog, store it, read it back with its status.

The buyer never sends a price: every amount comes from `eventpay.domain.pricing` applied to the
catalog as stored. The order's status is derived from its payment and refund attempts each time
it is read (`derive_order_status`), never stored as a flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventpay.domain import (
    CatalogError,
    CurrencyMismatch,
    FeePolicy,
    OrderStatus,
    PaymentSummary,
    QuoteLine,
    RegistrationClosed,
    derive_order_status,
    price_registration,
    quote_order,
    summarize,
)
from eventpay.domain.orders import AttemptAmount, RefundAmount, RegistrationStatus
from eventpay.ports import (
    AuditEntry,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    Principal,
    RefundRecord,
    RegistrationRecord,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class RegistrationItem:
    event_id: str
    class_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderView:
    order: OrderRecord
    status: OrderStatus
    summary: PaymentSummary
    payments: Sequence[PaymentRecord]
    refunds: Sequence[RefundRecord]


def counted_amount(payment: PaymentRecord) -> int:
    """What an attempt contributes once succeeded: what the provider says arrived, if it said.

    A success for less than was asked (a tampered or misconfigured intent) must not pay the
    order; the provider's received amount is the truth, our requested amount the fallback.
    """
    return payment.amount if payment.amount_received is None else payment.amount_received


def _summary_inputs(
    order: OrderRecord, payments: Sequence[PaymentRecord], refunds: Sequence[RefundRecord]
) -> tuple[list[AttemptAmount], list[RefundAmount]]:
    return (
        [AttemptAmount(status=p.status, amount=order.money(counted_amount(p))) for p in payments],
        [RefundAmount(status=r.status, amount=order.money(r.amount)) for r in refunds],
    )


def view_of(uow: UnitOfWork, order: OrderRecord, *, now: datetime) -> OrderView:
    payments = uow.payments.list_for_order(order.id)
    refunds = uow.refunds.list_for_order(order.id)
    attempts, refund_amounts = _summary_inputs(order, payments, refunds)
    total = order.money(order.total)
    status = derive_order_status(
        total=total,
        payments=attempts,
        refunds=refund_amounts,
        cancelled=order.cancelled_at is not None,
        expires_at=order.expires_at,
        now=now,
    )
    summary = summarize(total=total, payments=attempts, refunds=refund_amounts)
    return OrderView(
        order=order, status=status, summary=summary, payments=payments, refunds=refunds
    )


def load_owned(
    uow: UnitOfWork, *, order_id: str, caller: Principal, for_update: bool = False
) -> OrderRecord:
    """The order if the caller may see it; otherwise NotFound, exactly as if it did not exist."""
    order = uow.orders.get(order_id, for_update=for_update)
    if order is None or (caller.role is not Role.ADMIN and order.buyer_id != caller.user_id):
        raise NotFound("order_not_found", "No such order.", {"order_id": order_id})
    return order


def order_status(uow_factory: UnitOfWorkFactory, order_id: str, *, now: datetime) -> OrderStatus:
    """The order's derived status, read in a unit of work of its own."""
    with uow_factory() as uow:
        order = uow.orders.get(order_id)
        if order is None:  # pragma: no cover - callers hold a row that refers to it
            raise LookupError(f"order {order_id} is missing")
        return view_of(uow, order, now=now).status


def cancel_registrations(
    uow: UnitOfWork, order: OrderRecord, *, actor: Principal | str, now: datetime, reason: str
) -> None:
    """Cancel the order's registrations still held, each with a `registration.cancelled` row."""
    for reg in order.registrations:
        if reg.status is RegistrationStatus.CANCELLED:
            continue
        uow.orders.set_registration_status(reg.id, RegistrationStatus.CANCELLED, at=now)
        audit.record(
            uow,
            entity_type="registration",
            entity_id=reg.id,
            order_id=order.id,
            action="registration.cancelled",
            actor=actor,
            now=now,
            details={"event_id": reg.event_id, "class_ids": reg.class_ids, "reason": reason},
        )


def get_order(*, uow: UnitOfWork, caller: Principal, order_id: str, now: datetime) -> OrderView:
    with uow:
        return view_of(uow, load_owned(uow, order_id=order_id, caller=caller), now=now)


def audit_trail(*, uow: UnitOfWork, caller: Principal, order_id: str) -> Sequence[AuditEntry]:
    """The order's audit rows, oldest first; only for admins (auditors and operators)."""
    if caller.role is not Role.ADMIN:
        raise NotFound("order_not_found", "No such order.", {"order_id": order_id})
    with uow:
        load_owned(uow, order_id=order_id, caller=caller)
        return uow.audit.list_for(order_id=order_id)


def _price_items(
    uow: UnitOfWork, items: Sequence[RegistrationItem], *, is_member: bool, now: datetime
) -> tuple[str, list[tuple[RegistrationItem, tuple[QuoteLine, ...]]]]:
    currency: str | None = None
    priced: list[tuple[RegistrationItem, tuple[QuoteLine, ...]]] = []
    for index, item in enumerate(items):
        event = uow.catalog.get_event(item.event_id)
        if event is None:
            raise InvalidRequest(
                "unknown_event", "No such event.", {"item": index, "event_id": item.event_id}
            )
        if currency is not None and event.currency != currency:
            raise InvalidRequest(
                "currency_mismatch",
                "All items of one order must be in the same currency.",
                {"item": index, "currency": event.currency, "order_currency": currency},
            )
        currency = event.currency
        try:
            lines = price_registration(
                event=event, class_ids=item.class_ids, is_member=is_member, now=now
            )
        except RegistrationClosed as exc:
            raise Conflict(exc.code, str(exc), {"item": index, **exc.details}) from None
        except CatalogError as exc:
            raise InvalidRequest(exc.code, str(exc), {"item": index, **exc.details}) from None
        priced.append((item, lines))
    if currency is None:
        raise InvalidRequest("no_items", "An order needs at least one item.")
    return currency, priced


def create_order(
    *,
    uow: UnitOfWork,
    buyer: Principal,
    items: Sequence[RegistrationItem],
    promo_code: str | None,
    fee_policy: FeePolicy,
    now: datetime,
    expires_in: timedelta,
) -> OrderView:
    if promo_code is not None:
        # No promotion exists yet; saying so beats silently charging full price.
        raise InvalidRequest("unknown_promo_code", "This promo code is not valid.", {})
    with uow:
        is_member = uow.catalog.is_member(buyer.user_id, at=now)
        currency, priced = _price_items(uow, items, is_member=is_member, now=now)
        all_lines = [line for _, lines in priced for line in lines]
        try:
            quote = quote_order(currency=currency, lines=all_lines, fee_policy=fee_policy)
        except CurrencyMismatch as exc:  # pragma: no cover - _price_items checks first
            raise InvalidRequest(exc.code, str(exc), exc.details) from None
        order_id = str(uuid.uuid4())
        registrations = [
            RegistrationRecord(
                id=str(uuid.uuid4()),
                order_id=order_id,
                event_id=item.event_id,
                competitor_id=buyer.user_id,
                class_ids=list(item.class_ids),
                status=RegistrationStatus.PENDING,
                created_at=now,
            )
            for item, _ in priced
        ]
        order = OrderRecord(
            id=order_id,
            buyer_id=buyer.user_id,
            currency=currency,
            subtotal=quote.subtotal.amount,
            discount=quote.discount.amount,
            fees=quote.fees.amount,
            tax=quote.tax.amount,
            total=quote.total.amount,
            platform_fee=quote.platform_fee.amount,
            organizer_net=quote.organizer_net.amount,
            created_at=now,
            expires_at=now + expires_in,
            lines=[
                OrderLineRecord(
                    id=str(uuid.uuid4()),
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    amount=line.amount.amount,
                    event_id=line.event_id,
                    class_id=line.class_id,
                    price_rule=None if line.price_rule is None else line.price_rule.value,
                )
                for position, line in enumerate(quote.lines)
            ],
            registrations=registrations,
        )
        uow.orders.add(order)
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            action="order.created",
            actor=buyer,
            now=now,
            details={
                "currency": currency,
                "total": order.total,
                "platform_fee": order.platform_fee,
                "is_member": is_member,
                "lines": [
                    {"description": ln.description, "amount": ln.amount} for ln in order.lines
                ],
            },
        )
        for reg in registrations:
            audit.record(
                uow,
                entity_type="registration",
                entity_id=reg.id,
                order_id=order.id,
                action="registration.created",
                actor=buyer,
                now=now,
                details={"event_id": reg.event_id, "class_ids": reg.class_ids},
            )
        view = view_of(uow, order, now=now)
        uow.commit()
        return view
