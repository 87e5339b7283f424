"""Pricers of spectator passes and VIP upgrades (`basket`): what they cost and which places they
take, from the catalog as stored.

- A pass item is one line (the pass type's price times quantity) and takes `quantity` places on
  each of the pass's days (`gate:<event>:<date>`, no holder: a buyer may buy several).
- A VIP upgrade item names a registration the buyer paid for (as its order's buyer or as its
  competitor). It is one line (`domain.passes.vip_upgrade_price`) and takes the place of
  `vip:<event>` held by the registration's id, so a registration is upgraded once, across
  orders. An upgrade that is only reserved by an unpaid order of the same buyer gives way to
  the new order (`settlement.places`).

What must not live here: setting passes and VIP prices up (`passes`), counting places.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventpay.domain import Money
from eventpay.domain.errors import DomainError
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.passes import (
    ChargedClass,
    charged_per_class,
    check_on_sale,
    check_vip_on_sale,
    gate_stock_id,
    pass_line,
    vip_line,
    vip_stock_id,
    vip_upgrade_price,
)
from eventpay.domain.places import PlaceClaim, PlaceStatus
from eventpay.domain.pricing import LineKind
from eventpay.ports import OrderRecord, RegistrationRecord
from eventpay.services.basket import Claim, PricedItem, PricingContext, event_for
from eventpay.services.errors import Conflict, InvalidRequest


@dataclass(frozen=True, slots=True)
class PassItem:
    """`quantity` passes of one pass type of `event_id`."""

    event_id: str
    pass_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class VipUpgradeItem:
    """Upgrade the buyer's paid registration to VIP."""

    registration_id: str


def _refusal(ctx: PricingContext, exc: DomainError, *, conflict: bool) -> Exception:
    details = {"item": ctx.index, **exc.details}
    error = Conflict if conflict else InvalidRequest
    return error(exc.code, str(exc), details)


def price_pass(ctx: PricingContext, item: PassItem) -> PricedItem:
    event = event_for(ctx, item.event_id)
    pass_type = ctx.uow.passes.get_pass_type(item.pass_id)
    if pass_type is None or pass_type.event_id != event.id:
        raise InvalidRequest(
            "unknown_pass",
            "No such pass at this event.",
            {"item": ctx.index, "event_id": event.id, "pass_id": item.pass_id},
        )
    try:
        check_on_sale(event, pass_type, ctx.now)
    except DomainError as exc:
        raise _refusal(ctx, exc, conflict=True) from None
    try:
        line = pass_line(event, pass_type, item.quantity)
    except DomainError as exc:
        raise _refusal(ctx, exc, conflict=False) from None
    claims = tuple(
        Claim(
            PlaceClaim(gate_stock_id(event.id, day), item.quantity),
            label=f"{event.name} — {pass_type.name} on {day.isoformat()}",
        )
        for day in pass_type.days
    )
    return PricedItem(
        event=event,
        lines=(line,),
        claims=claims,
        audit={"pass_id": pass_type.id, "quantity": item.quantity},
    )


def _owned_registration(
    ctx: PricingContext, registration_id: str
) -> tuple[OrderRecord, RegistrationRecord]:
    order_id = ctx.uow.passes.order_of_registration(registration_id)
    order = None if order_id is None else ctx.uow.orders.get(order_id)
    registration = (
        None
        if order is None
        else next((r for r in order.registrations if r.id == registration_id), None)
    )
    buyer = ctx.buyer.user_id
    if (
        order is None
        or registration is None
        or buyer not in (order.buyer_id, registration.competitor_id)
    ):
        raise InvalidRequest(
            "registration_not_found",
            "No such registration of yours.",
            {"item": ctx.index, "registration_id": registration_id},
        )
    return order, registration


def _refuse_unless_paid(ctx: PricingContext, registration: RegistrationRecord) -> None:
    details = {"item": ctx.index, "registration_id": registration.id}
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict("registration_cancelled", "This registration is cancelled.", details)
    if registration.status is not RegistrationStatus.CONFIRMED:
        raise Conflict(
            "registration_not_paid", "This registration is not paid yet: pay it first.", details
        )
    held = ctx.uow.places.active_holder(vip_stock_id(registration.event_id), registration.id)
    if held is not None and held.status is PlaceStatus.CONFIRMED:
        raise Conflict(
            "already_upgraded",
            "This registration is already upgraded to VIP.",
            {**details, "order_id": held.order_id},
        )


def price_vip_upgrade(ctx: PricingContext, item: VipUpgradeItem) -> PricedItem:
    order, registration = _owned_registration(ctx, item.registration_id)
    _refuse_unless_paid(ctx, registration)
    event = event_for(ctx, registration.event_id)
    vip_prices = ctx.uow.passes.vip_prices(event.id)
    try:
        check_vip_on_sale(event, ctx.now)
        lines = (
            (line.class_id, Money(line.amount - line.discount, order.currency))
            for line in order.lines
            if line.kind == LineKind.REGISTRATION and line.event_id == event.id
        )
        charged = charged_per_class(lines, registration.class_ids, event.currency)
        amount = vip_upgrade_price(
            event.currency,
            [
                ChargedClass(class_id, vip_prices.get(class_id), charged[class_id])
                for class_id in registration.class_ids
            ],
        )
        codes = [event.class_by_id(class_id).code for class_id in registration.class_ids]
    except DomainError as exc:
        raise _refusal(ctx, exc, conflict=exc.code == "vip_sales_closed") from None
    return PricedItem(
        event=event,
        lines=(vip_line(event, codes, amount),),
        claims=(
            Claim(
                PlaceClaim(vip_stock_id(event.id), 1, holder=registration.id),
                label=f"{event.name} VIP",
            ),
        ),
        audit={"registration_id": registration.id, "upgrade_of_order": order.id},
    )
