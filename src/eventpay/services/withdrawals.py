"""Refunds a person asks for: the quote, and the request that records and sends the refund.

A competitor (the order's buyer) withdraws under the events' published terms
(`domain.refund_policy`): the quote says what comes back and why, and a request may ask for
that much at most. The competitor's places are released only once the refund has succeeded
(settlement): a refund the provider refuses leaves the registrations valid, and the order
says why. An admin (platform operator) may refund any part of what is held, for a stated
reason, outside the terms; registrations are released only when nothing is left held. The
ceilings are the domain's (`refund_ceiling`, `held_by_payment`).

Both run under the order's row lock and count refunds still pending, so two requests at once
cannot return the same money twice. The refund rows are committed first (with their own
idempotency keys) and sent to the provider afterwards, outside the transaction: a lost
answer leaves them pending for the janitor, which repeats the same request.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from eventpay.domain import (
    InvalidAmount,
    Money,
    PaymentStatus,
    RefundKind,
    RefundQuote,
    RefundStatus,
    allocate_refund,
    held_by_payment,
    quote_refund,
    refund_ceiling,
    returned_to_buyer,
    sum_money,
)
from eventpay.ports import (
    Clock,
    OrderRecord,
    PaymentRecord,
    Principal,
    ProviderRegistry,
    RefundRecord,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import request_refund
from eventpay.services.views import OrderView, load_owned, view_of


class RefundMethod(StrEnum):
    ORIGINAL = "original"
    CREDIT = "credit"


OFFERED_METHODS = (RefundMethod.ORIGINAL,)
"""How money can come back today; store credit and transfers to another event are not offered."""


@dataclass(frozen=True, slots=True)
class RefundOption:
    """One way a withdrawal could be settled, and whether it is available now."""

    option: Literal["refund", "transfer", "credit"]
    method: RefundMethod | None  # what to send as `method`; None: not requestable at all
    available: bool
    amount: Money | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class WithdrawalQuote:
    """The policy quote for an order, plus what is held (the most an operator may refund)."""

    order: OrderRecord
    quote: RefundQuote
    held: Money

    @property
    def options(self) -> tuple[RefundOption, ...]:
        refundable = self.quote.refundable
        can_refund = refundable.is_positive() and RefundMethod.ORIGINAL in OFFERED_METHODS
        return (
            RefundOption(
                option="refund",
                method=RefundMethod.ORIGINAL,
                available=can_refund,
                amount=refundable,
                reason=None if can_refund else "nothing is refundable now",
            ),
            RefundOption(
                option="transfer",
                method=None,
                available=False,
                amount=None,
                reason="transfers to another event are not offered yet",
            ),
            RefundOption(
                option="credit",
                method=RefundMethod.CREDIT,
                available=False,
                amount=None,
                reason="store credit is not offered yet",
            ),
        )


def _step(view: OrderView, providers: ProviderRegistry | None) -> int:
    """The coarsest amount step of the providers holding the order's money (1: any amount)."""
    steps = [
        gateway.amount_step(view.order.currency)
        for payment in view.payments
        if payment.status is PaymentStatus.SUCCEEDED
        and providers is not None
        and (gateway := providers.get(payment.provider)) is not None
    ]
    return max(steps, default=1)


def _quote(
    uow: UnitOfWork, view: OrderView, now: datetime, providers: ProviderRegistry | None
) -> WithdrawalQuote:
    order = view.order
    currency = order.currency
    lines = []
    for line in order.lines:
        if line.event_id is None:
            continue
        event = uow.catalog.get_event(line.event_id)
        if event is None:  # pragma: no cover - foreign key guarantees it
            raise LookupError(f"event {line.event_id} of order {order.id} is missing")
        lines.append((line.event_id, Money(line.amount, currency), event.refund_terms))

    def total_of(status: RefundStatus) -> Money:
        return sum_money(
            (Money(r.amount, currency) for r in view.refunds if r.status is status), currency
        )

    returned, on_its_way = returned_to_buyer(
        total=Money(order.total, currency),
        paid=view.summary.paid,
        refunded=total_of(RefundStatus.SUCCEEDED),
        pending=total_of(RefundStatus.PENDING),
    )
    held = sum_money((amount for _, amount in held_by_payment(view.funds())), currency)
    quote = quote_refund(
        total=Money(order.total, currency),
        lines=lines,
        returned=returned,
        pending=on_its_way,
        held=held,
        now=now,
        step=_step(view, providers),
    )
    return WithdrawalQuote(order=order, quote=quote, held=held)


def quote(
    *,
    uow: UnitOfWork,
    caller: Principal,
    order_id: str,
    now: datetime,
    providers: ProviderRegistry | None = None,
) -> WithdrawalQuote:
    with uow:
        order = load_owned(uow, order_id=order_id, caller=caller)
        return _quote(uow, view_of(uow, order, now=now), now, providers)


def request(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    order_id: str,
    amount: int | None,
    currency: str | None = None,
    reason: str,
    method: RefundMethod,
    clock: Clock,
    request_key: str | None = None,
) -> list[RefundRecord]:
    """Record the refund (split over payments if needed), send it, return its parts.

    `request_key` (the caller's Idempotency-Key with who sent it) makes the request itself
    idempotent: its parts carry keys derived from it, and a request whose parts exist already
    (a retry after the web layer lost the first answer) returns them instead of refunding again.
    """
    if method not in OFFERED_METHODS:
        raise InvalidRequest(
            "refund_method_unavailable",
            "Store credit is not offered yet; ask for a refund to the original payment method.",
            {"method": method.value, "available": [m.value for m in OFFERED_METHODS]},
        )
    now = clock()
    with uow_factory() as uow:
        load_owned(uow, order_id=order_id, caller=caller)
        # Locks in the order settlement takes them, payments before their order, so a payment
        # settling at this moment waits or is waited for, never deadlocks with this request.
        for payment in sorted(uow.payments.list_for_order(order_id), key=lambda p: p.id):
            uow.payments.get(payment.id, for_update=True)
        order = load_owned(uow, order_id=order_id, caller=caller, for_update=True)
        done = _existing_parts(uow, _part_keys(request_key, order.id))
        if done:
            return done
        if currency is not None and currency.lower() != order.currency:
            raise InvalidRequest(
                "currency_mismatch",
                f"The order is in {order.currency}.",
                {"currency": currency, "order_currency": order.currency},
            )
        view = view_of(uow, order, now=now)
        quoted = _quote(uow, view, now, providers)
        operator = caller.role is Role.ADMIN
        allowed = refund_ceiling(
            by_terms=quoted.quote.refundable, held=quoted.held, by_operator=operator
        )
        if not allowed.is_positive():
            raise Conflict(
                "nothing_to_refund",
                "Nothing can be refunded for this order now.",
                {
                    "rule": None if quoted.quote.rule is None else quoted.quote.rule.value,
                    "held": quoted.held.amount,
                },
            )
        wanted = allowed if amount is None else Money(amount, order.currency)
        if wanted > allowed:
            raise InvalidRequest(
                "refund_exceeds_allowed",
                f"At most {allowed} can be refunded now.",
                {"requested": wanted.amount, "allowed": allowed.amount},
            )
        try:
            parts = allocate_refund(wanted, held_by_payment(view.funds()))
        except InvalidAmount as exc:  # pragma: no cover - allowed <= held
            raise Conflict("nothing_to_refund", str(exc)) from None
        by_id = {p.id: p for p in view.payments}
        _check_parts(providers, by_id, parts)
        kind = RefundKind.OPERATOR if operator else RefundKind.CUSTOMER
        keys = _part_keys(request_key, order.id)
        request_id = str(uuid.uuid4())
        refunds = [
            request_refund(
                uow,
                payment=by_id[payment_id],
                amount=part.amount,
                kind=kind,
                reason=reason,
                actor=caller,
                now=now,
                idempotency_key=next(keys),
                request_id=request_id,
            )
            for payment_id, part in parts
        ]
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            action="order.refund_requested",
            actor=caller,
            now=now,
            details={
                "amount": wanted.amount,
                "currency": order.currency,
                "kind": kind,
                "reason": reason,
                "rule": None if quoted.quote.rule is None else quoted.quote.rule.value,
                "by_terms": quoted.quote.by_terms.amount,
                "refund_ids": [r.id for r in refunds],
            },
        )
        # Places are released by settlement once the money is back, never before: a refund
        # the provider refuses leaves the competitor holding what they paid for.
        uow.commit()
    execute_pending_refunds(
        uow_factory=uow_factory, providers=providers, clock=clock, only=[r.id for r in refunds]
    )
    with uow_factory() as uow:
        return [_reload(uow, r.id) for r in refunds]


def _part_keys(request_key: str | None, order_id: str) -> Iterator[str | None]:
    """The idempotency keys of a request's refund parts: derived from its key, else fresh.

    The order id is part of it: the keys also go to the provider, where they must never meet
    another order's refund (a client reusing its key elsewhere, once our record of it expired).
    """
    if request_key is None:
        return itertools.repeat(None)
    digest = hashlib.sha256(f"{order_id}|{request_key}".encode()).hexdigest()[:40]
    return (f"eventpay-refund-request-{digest}-{n}" for n in itertools.count())


def _existing_parts(uow: UnitOfWork, keys: Iterator[str | None]) -> list[RefundRecord]:
    """The parts an earlier run of the same request recorded, in order; [] if none."""
    found: list[RefundRecord] = []
    for key in keys:
        part = None if key is None else uow.refunds.by_idempotency_key(key)
        if part is None:
            return found
        found.append(part)
    return found  # pragma: no cover - the key iterators never end


def _reload(uow: UnitOfWork, refund_id: str) -> RefundRecord:
    refund = uow.refunds.get(refund_id)
    if refund is None:  # pragma: no cover - committed above
        raise LookupError(refund_id)
    return refund


def _check_parts(
    providers: ProviderRegistry,
    payments: Mapping[str, PaymentRecord],
    parts: Sequence[tuple[str, Money]],
) -> None:
    """422 now for a part its provider could not send (a KWD amount Stripe takes only in steps
    of 10 fils): never a refund that is certain to be refused."""
    for payment_id, part in parts:
        gateway = providers.get(payments[payment_id].provider)
        refusal = None if gateway is None else gateway.refusal_for(part)
        if refusal is not None:
            raise InvalidRequest(
                "refund_amount_not_supported",
                refusal,
                {"amount": part.amount, "currency": part.currency, "payment_id": payment_id},
            )
