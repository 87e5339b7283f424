"""Order use cases: price a basket from the catalog, store it, read it back with its status.

The buyer never sends a price: every amount comes from `eventpay.domain.pricing` applied to the
catalog as stored, and each event's lines are charged the platform fee of that event's policy
(its own, else its organizer's, else the platform's `fee_policy`). The fee is stored with the
order when it is placed, so a later change of any policy never alters an order; the audit row
of the order names the policy each event was charged under. The order's status is derived from
its payment and refund attempts each time it is read (`derive_order_status`), never stored as a
flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventpay.domain import (
    CatalogError,
    CurrencyMismatch,
    FeePayer,
    FeePolicy,
    Money,
    QuoteLine,
    RegistrationClosed,
    price_registration,
    quote_order,
)
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.pricing import FeeShare, fee_policy_for, fee_shares
from eventpay.ports import (
    AuditEntry,
    OrderLineRecord,
    OrderRecord,
    Principal,
    ProviderRegistry,
    RegistrationRecord,
    Role,
    UnitOfWork,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.views import OrderView, load_owned, view_of

__all__ = ["OrderView", "RegistrationItem", "audit_trail", "create_order", "get_order"]


@dataclass(frozen=True, slots=True)
class RegistrationItem:
    event_id: str
    class_ids: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class _PricedItems:
    currency: str
    priced: list[tuple[RegistrationItem, tuple[QuoteLine, ...]]]
    fee_policies: dict[str, FeePolicy]
    """The platform fee policy of each event of the order, by event id."""


def _price_items(
    uow: UnitOfWork,
    items: Sequence[RegistrationItem],
    *,
    is_member: bool,
    fee_policy: FeePolicy,
    now: datetime,
) -> _PricedItems:
    currency: str | None = None
    priced: list[tuple[RegistrationItem, tuple[QuoteLine, ...]]] = []
    policies: dict[str, FeePolicy] = {}
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
        if event.id not in policies:
            organizer = uow.catalog.get_organizer(event.organizer_id)
            policies[event.id] = fee_policy_for(
                event=event, organizer=organizer, default=fee_policy
            )
    if currency is None:
        raise InvalidRequest("no_items", "An order needs at least one item.")
    return _PricedItems(currency, priced, policies)


def _fee_audit(shares: Sequence[FeeShare]) -> list[dict[str, object]]:
    """Which policy charged which fee on which event: what an auditor re-computes the fee from."""
    return [
        {
            "event_id": share.event_id,
            "subtotal": share.subtotal.amount,
            "fee": share.fee.amount,
            "percent": str(share.policy.percent),
            "fixed_minor": share.policy.fixed_minor,
            "rounding": share.policy.rounding.value,
            "payer": share.policy.payer.value,
        }
        for share in shares
    ]


def create_order(
    *,
    uow: UnitOfWork,
    buyer: Principal,
    items: Sequence[RegistrationItem],
    promo_code: str | None,
    fee_policy: FeePolicy,
    now: datetime,
    expires_in: timedelta,
    providers: ProviderRegistry | None = None,
) -> OrderView:
    """Price the basket from the catalog and store the order, awaiting payment.

    With `providers`, an order no configured provider could take (its currency, or an amount
    finer than a provider accepts) is refused with 422 now, not when the buyer tries to pay.
    `fee_policy` is the platform's policy, for events and organizers without their own.
    """
    if promo_code is not None:
        # No promotion exists yet; saying so beats silently charging full price.
        raise InvalidRequest("unknown_promo_code", "This promo code is not valid.", {})
    with uow:
        is_member = uow.catalog.is_member(buyer.user_id, at=now)
        basket = _price_items(uow, items, is_member=is_member, fee_policy=fee_policy, now=now)
        currency, priced = basket.currency, basket.priced
        all_lines = [line for _, lines in priced for line in lines]
        try:
            quote = quote_order(
                currency=currency,
                lines=all_lines,
                fee_policy=fee_policy,
                event_policies=basket.fee_policies,
            )
        except CurrencyMismatch as exc:  # pragma: no cover - _price_items checks first
            raise InvalidRequest(exc.code, str(exc), exc.details) from None
        if providers is not None:
            _check_payable(providers, quote.total)
        shares = fee_shares(
            currency=currency,
            lines=all_lines,
            fee_policy=fee_policy,
            event_policies=basket.fee_policies,
        )
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
            organizer_shares=_organizer_shares(uow, shares, quote.total, quote.platform_fee),
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
                "platform_fee_by_event": _fee_audit(shares),
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


def _check_payable(providers: ProviderRegistry, total: Money) -> None:
    if not providers or total.is_zero():
        return
    refusals = {name.value: gateway.refusal_for(total) for name, gateway in providers.items()}
    if all(refusal is not None for refusal in refusals.values()):
        raise InvalidRequest(
            "currency_not_supported",
            f"No payment provider of this service can take {total.currency.upper()} "
            f"{total.to_decimal_string()}.",
            {"currency": total.currency, "providers": refusals},
        )


def _organizer_shares(
    uow: UnitOfWork, shares: Sequence[FeeShare], total: Money, platform_fee: Money
) -> dict[str, list[int]] | None:
    """Per organizer, [gross, fee]: their events' lines (plus the fee when the buyer pays it)
    and their events' fees. None when that does not add up to the order (a discount or tax
    shared otherwise): the ledger then shares the order by line amounts."""
    by_organizer: dict[str, list[int]] = {}
    for share in shares:
        event = None if share.event_id is None else uow.catalog.get_event(share.event_id)
        organizer = "" if event is None else event.organizer_id
        buyer_pays = share.policy.payer is FeePayer.BUYER
        gross = share.subtotal.amount + (share.fee.amount if buyer_pays else 0)
        parts = by_organizer.setdefault(organizer, [0, 0])
        parts[0] += gross
        parts[1] += share.fee.amount
    gross_total = sum(parts[0] for parts in by_organizer.values())
    fee_total = sum(parts[1] for parts in by_organizer.values())
    if (gross_total, fee_total) != (total.amount, platform_fee.amount):
        return None
    return by_organizer
