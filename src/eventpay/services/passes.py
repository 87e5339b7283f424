"""Spectator passes and VIP upgrades, set up by the event's organizer or an admin; the public
offer buyers choose from; a buyer's registration with its VIP status.

- The gate's capacity per day is one stock item per event day (`domain.passes.gate_stock_id`);
  setting it sets every day's. Reservations that expired unpaid are released first; a capacity
  below the places still sold or reserved on a day is then refused (409
  `capacity_below_taken`), and nothing changes.
- A pass type names its days (or "all"); its days get a stock item (unlimited until the gate
  has a capacity) so a pass can always be reserved against them.
- VIP: the event's VIP capacity (stock `vip:<event>`) and each class's full VIP price, replaced
  as a whole by each `set_vip`.

Another organizer's event, and any event for a competitor, answers as an unknown one (404
`event_not_found`). Every change is audited. What must not live here: pricing an order's pass
or upgrade (`basket_passes`), and counting places (`ports.places`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from eventpay.domain import Event, Money
from eventpay.domain.catalog import MAX_CAPACITY
from eventpay.domain.errors import MoneyError
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.passes import (
    PassError,
    PassType,
    check_name,
    check_price,
    event_days,
    gate_stock_id,
    places_left,
    resolve_days,
    vip_stock_id,
)
from eventpay.domain.places import PlaceStatus
from eventpay.ports import Principal, RegistrationRecord, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.services.audit import record
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.settlement import places

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PriceInput:
    """An amount in minor units, and the currency the organizer named with it (None: the
    event's)."""

    amount: int
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class PassInput:
    name: str
    price: PriceInput
    days: Sequence[str] | str  # ISO dates, or "all"


@dataclass(frozen=True, slots=True)
class DayPlaces:
    day: date
    capacity: int | None
    left: int | None


@dataclass(frozen=True, slots=True)
class PassOffer:
    pass_type: PassType
    places_left: int | None  # the fewest over its days; None: no day limited


@dataclass(frozen=True, slots=True)
class EventPasses:
    event_id: str
    currency: str
    days: tuple[DayPlaces, ...]
    passes: tuple[PassOffer, ...]


@dataclass(frozen=True, slots=True)
class VipPrice:
    class_id: str
    code: str
    price: Money


@dataclass(frozen=True, slots=True)
class VipOffer:
    event_id: str
    currency: str
    offered: bool  # False until an organizer has set VIP up
    capacity: int | None
    places_left: int | None
    prices: tuple[VipPrice, ...]


@dataclass(frozen=True, slots=True)
class RegistrationView:
    registration: RegistrationRecord
    vip: bool  # a confirmed (paid) VIP place is held for it


def _event_for(uow: UnitOfWork, caller: Principal, event_id: str) -> Event:
    event = uow.catalog.get_event(event_id)
    mine = (
        event is not None
        and caller.role is Role.ORGANIZER
        and caller.organizer_id == event.organizer_id
    )
    if event is None or not (caller.role is Role.ADMIN or mine):
        raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
    return event


def _public_event(uow: UnitOfWork, event_id: str) -> Event:
    event = uow.catalog.get_event(event_id)
    if event is None:
        raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
    return event


def _capacity(capacity: int | None, field: str) -> int | None:
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidRequest(
            "invalid_capacity",
            f"{field} must be 0 to {MAX_CAPACITY}, or null for no limit.",
            {"field": field},
        )
    return capacity


def _money(price: PriceInput, event: Event, field: str) -> Money:
    try:
        money = Money(price.amount, (price.currency or event.currency).lower())
        return check_price(money, event, field=field)
    except PassError as exc:
        raise InvalidRequest(exc.code, f"{field}: {exc}", exc.details) from None
    except MoneyError as exc:
        raise InvalidRequest("invalid_pass", f"{field}: {exc}", {"field": field}) from None


def _swept_if_blocked(
    uow_factory: UnitOfWorkFactory, caller: Principal, now: datetime, attempt: Callable[[bool], T]
) -> T:
    """`attempt(swept=False)`; when places held by lapsed reservations are in the way, release
    them (one transaction per order) and attempt once more."""
    try:
        return attempt(False)
    except places.Blocked as blocked:
        places.sweep_expired(uow_factory, actor=caller, now=now, stock_ids=blocked.stock_ids)
    return attempt(True)


def _set_capacity(
    uow: UnitOfWork,
    event: Event,
    stock_id: str,
    capacity: int | None,
    *,
    what: str,
    now: datetime,
    swept: bool,
) -> None:
    if not uow.places.ensure_stock(stock_id, event_id=event.id, kind=what, capacity=capacity):
        if not swept and uow.places.expired_held(now=now, stock_ids=[stock_id], limit=1):
            raise places.Blocked([stock_id])
        level = uow.places.levels([stock_id]).get(stock_id)
        raise Conflict(
            "capacity_below_taken",
            f"More places of {stock_id} are already sold or reserved than {capacity}.",
            {"stock_id": stock_id, "taken": None if level is None else level.taken},
        )


def _ensure_unlimited(uow: UnitOfWork, event: Event, stock_ids: Sequence[str], kind: str) -> None:
    """Create the stock items that do not exist yet, unlimited; leave the others alone."""
    present = uow.places.levels(stock_ids)
    for stock_id in stock_ids:
        if stock_id not in present:
            uow.places.ensure_stock(stock_id, event_id=event.id, kind=kind, capacity=None)


def _event_passes(uow: UnitOfWork, event: Event) -> EventPasses:
    # Shortest first (single days, then 2-day, ... full event), each by date then price.
    types = sorted(
        uow.passes.pass_types(event.id), key=lambda p: (len(p.days), p.days, p.price, p.name)
    )
    days = sorted({*event_days(event), *(d for p in types for d in p.days)})
    levels = uow.places.levels([gate_stock_id(event.id, day) for day in days])

    def day_places(day: date) -> DayPlaces:
        level = levels.get(gate_stock_id(event.id, day))
        return DayPlaces(
            day, None if level is None else level.capacity, None if level is None else level.left
        )

    by_day = {day: day_places(day) for day in days}
    return EventPasses(
        event_id=event.id,
        currency=event.currency,
        days=tuple(by_day[day] for day in event_days(event)),
        passes=tuple(PassOffer(p, places_left(by_day[day].left for day in p.days)) for p in types),
    )


def set_gate_capacity(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    capacity: int | None,
    now: datetime,
) -> EventPasses:
    """Set the gate's places per event day (None: unlimited)."""
    _capacity(capacity, "capacity_per_day")
    return _swept_if_blocked(
        uow_factory,
        caller,
        now,
        lambda swept: _set_gate(uow_factory, caller, event_id, capacity, now=now, swept=swept),
    )


def _set_gate(
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    capacity: int | None,
    *,
    now: datetime,
    swept: bool,
) -> EventPasses:
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        for day in event_days(event):
            stock_id = gate_stock_id(event.id, day)
            _set_capacity(uow, event, stock_id, capacity, what="gate", now=now, swept=swept)
        record(
            uow,
            entity_type="event",
            entity_id=event.id,
            action="event.gate_capacity_set",
            actor=caller,
            now=now,
            details={
                "capacity_per_day": capacity,
                "days": [day.isoformat() for day in event_days(event)],
            },
        )
        offer = _event_passes(uow, event)
        uow.commit()
    return offer


def create_pass_type(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    asked: PassInput,
    now: datetime,
) -> PassOffer:
    """Add a pass type to the event; its days must be event days."""
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        try:
            name = check_name(asked.name)
            days = resolve_days(event, asked.days)
        except PassError as exc:
            raise InvalidRequest(exc.code, str(exc), exc.details) from None
        pass_type = PassType(
            id=str(uuid.uuid4()),
            event_id=event.id,
            name=name,
            price=_money(asked.price, event, "price"),
            days=days,
        )
        _ensure_unlimited(uow, event, pass_type.stock_ids(), "gate")
        uow.passes.add_pass_type(pass_type, created_at=now, created_by=caller.user_id)
        record(
            uow,
            entity_type="pass_type",
            entity_id=pass_type.id,
            action="pass_type.created",
            actor=caller,
            now=now,
            details={
                "event_id": event.id,
                "name": name,
                "price": pass_type.price.amount,
                "currency": event.currency,
                "days": [day.isoformat() for day in days],
            },
        )
        offer = next(o for o in _event_passes(uow, event).passes if o.pass_type.id == pass_type.id)
        uow.commit()
    return offer


def list_passes(*, uow_factory: UnitOfWorkFactory, event_id: str) -> EventPasses:
    """The event's days with the gate's places, and its pass types with places left."""
    with uow_factory() as uow:
        return _event_passes(uow, _public_event(uow, event_id))


def _vip_offer(uow: UnitOfWork, event: Event) -> VipOffer:
    stock_id = vip_stock_id(event.id)
    level = uow.places.levels([stock_id]).get(stock_id)
    prices = uow.passes.vip_prices(event.id)
    return VipOffer(
        event_id=event.id,
        currency=event.currency,
        offered=level is not None,
        capacity=None if level is None else level.capacity,
        places_left=None if level is None else level.left,
        prices=tuple(VipPrice(c.id, c.code, prices[c.id]) for c in event.classes if c.id in prices),
    )


def set_vip(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    capacity: int | None,
    prices: Mapping[str, PriceInput],
    now: datetime,
) -> VipOffer:
    """Set the event's VIP places (None: unlimited) and its classes' VIP prices (a class not
    named offers no upgrade)."""
    _capacity(capacity, "capacity")
    return _swept_if_blocked(
        uow_factory,
        caller,
        now,
        lambda swept: _set_vip(uow_factory, caller, event_id, capacity, prices, now, swept),
    )


def _set_vip(
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    capacity: int | None,
    prices: Mapping[str, PriceInput],
    now: datetime,
    swept: bool,
) -> VipOffer:
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        known = {c.id for c in event.classes}
        vip: dict[str, Money] = {}
        for class_id, price in prices.items():
            field = f"prices.{class_id}"
            if class_id not in known:
                raise InvalidRequest(
                    "unknown_class", f"{class_id!r} is not a class of this event.", {"field": field}
                )
            vip[class_id] = _money(price, event, field)
        stock_id = vip_stock_id(event.id)
        _set_capacity(uow, event, stock_id, capacity, what="vip", now=now, swept=swept)
        uow.passes.set_vip_prices(event.id, vip, at=now, by=caller.user_id)
        record(
            uow,
            entity_type="event",
            entity_id=event.id,
            action="event.vip_set",
            actor=caller,
            now=now,
            details={
                "capacity": capacity,
                "currency": event.currency,
                "prices": {class_id: price.amount for class_id, price in vip.items()},
            },
        )
        offer = _vip_offer(uow, event)
        uow.commit()
    return offer


def get_vip(*, uow_factory: UnitOfWorkFactory, event_id: str) -> VipOffer:
    """The event's VIP prices and places left (public: what an upgrade costs)."""
    with uow_factory() as uow:
        return _vip_offer(uow, _public_event(uow, event_id))


def get_registration(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, registration_id: str
) -> RegistrationView:
    """A registration for its order's buyer, its competitor or an admin (anyone else: 404
    `registration_not_found`), with whether it is upgraded to VIP."""
    with uow_factory() as uow:
        order_id = uow.passes.order_of_registration(registration_id)
        order = None if order_id is None else uow.orders.get(order_id)
        registration = (
            None
            if order is None
            else next((r for r in order.registrations if r.id == registration_id), None)
        )
        if (
            order is None
            or registration is None
            or not (
                caller.role is Role.ADMIN
                or caller.user_id in (order.buyer_id, registration.competitor_id)
            )
        ):
            raise NotFound(
                "registration_not_found",
                "No such registration.",
                {"registration_id": registration_id},
            )
        place = uow.places.active_holder(vip_stock_id(registration.event_id), registration.id)
        vip = (
            place is not None
            and place.status is PlaceStatus.CONFIRMED
            and registration.status is RegistrationStatus.CONFIRMED
        )
        return RegistrationView(registration, vip)
