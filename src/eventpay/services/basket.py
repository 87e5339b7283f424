"""What each kind of item in an order costs, which places it needs and what it registers.

`orders.create_order` prices a basket item by item: each item kind (a class entry, a pass, a
team, merchandise, ...) has one pricer, a function from the item to a `PricedItem`:

- `lines`: the quote lines, priced by the domain from the catalog as stored (never a client
  price), each carrying the `event_id` whose organizer is paid for it and whose fee policy
  charges it;
- `registrations`: the competitors' registrations the item creates (confirmed when the order
  is paid);
- `claims`: the places it needs (`domain.places.PlaceClaim`), reserved with the order;
- `persist`: anything else the item stores with the order (a team's roster, a shipping
  address), called once the order row exists.

Pricers are looked up by the item's type in `orders.PRICERS`. A pricer raises the services'
errors (`InvalidRequest` naming the item's index, `Conflict` for a closed window); it never
writes. What must not live here: totals, fees and discounts (`domain.pricing.quote_order`,
`domain.promotions`), and counting places (`settlement.places`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventpay.domain import CatalogError, Event, RegistrationClosed, price_registration
from eventpay.domain.places import PlaceClaim, class_stock_id
from eventpay.domain.pricing import QuoteLine
from eventpay.ports import Principal, UnitOfWork
from eventpay.services.errors import Conflict, InvalidRequest


@dataclass(frozen=True, slots=True)
class NewRegistration:
    """A registration an item creates: `competitor_id` entered in `class_ids` of `event_id`."""

    event_id: str
    competitor_id: str
    class_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Claim:
    """Places an item needs; `registration` is the index, in the item's `registrations`, of
    the registration they are for (None: places not tied to a registration, such as passes)."""

    claim: PlaceClaim
    label: str
    registration: int | None = None


Persist = Callable[[UnitOfWork, str, Sequence[str]], None]
"""Stores what else an item needs, given the unit of work, the new order's id and the ids of
the item's registrations (in the order of `PricedItem.registrations`)."""


@dataclass(frozen=True, slots=True)
class PricedItem:
    event: Event
    lines: tuple[QuoteLine, ...]
    registrations: tuple[NewRegistration, ...] = ()
    claims: tuple[Claim, ...] = ()
    persist: Persist | None = None
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PricingContext:
    """What every pricer may need besides its item."""

    uow: UnitOfWork
    buyer: Principal
    is_member: bool
    now: datetime
    index: int  # the item's position in the order, for error details
    basket: Sequence[object] = ()
    """Every item of the order, this one at `index`: for a charge shared by several items
    (one shipping line per event and address, `basket_merch`)."""


Pricer = Callable[[PricingContext, Any], PricedItem]


def event_for(ctx: PricingContext, event_id: str) -> Event:
    """The item's event, or 422 `unknown_event` naming the item."""
    event = ctx.uow.catalog.get_event(event_id)
    if event is None:
        raise InvalidRequest(
            "unknown_event", "No such event.", {"item": ctx.index, "event_id": event_id}
        )
    return event


def catalog_refusal(ctx: PricingContext, exc: CatalogError) -> InvalidRequest | Conflict:
    """A domain refusal as the services' error: a closed window is a 409, the rest 422."""
    details = {"item": ctx.index, **exc.details}
    if isinstance(exc, RegistrationClosed):
        return Conflict(exc.code, str(exc), details)
    return InvalidRequest(exc.code, str(exc), details)


@dataclass(frozen=True, slots=True)
class RegistrationItem:
    """The buyer enters `class_ids` of `event_id` themself."""

    event_id: str
    class_ids: tuple[str, ...]


def price_entry(ctx: PricingContext, item: RegistrationItem) -> PricedItem:
    event = event_for(ctx, item.event_id)
    try:
        lines = price_registration(
            event=event, class_ids=item.class_ids, is_member=ctx.is_member, now=ctx.now
        )
    except CatalogError as exc:
        raise catalog_refusal(ctx, exc) from None
    registration = NewRegistration(event.id, ctx.buyer.user_id, tuple(item.class_ids))
    claims = tuple(
        Claim(
            PlaceClaim(class_stock_id(class_id), 1, holder=ctx.buyer.user_id),
            label=f"{event.name} — {event.class_by_id(class_id).code}",
            registration=0,
        )
        for class_id in item.class_ids
    )
    return PricedItem(event=event, lines=lines, registrations=(registration,), claims=claims)
