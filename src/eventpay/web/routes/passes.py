"""Spectator passes and VIP upgrades: set up by the event's organizer or an admin, listed for
everyone; a buyer's registration with its VIP status.

Only the shape of a body is checked here; the rules (days of the event, prices in the event's
currency and not absurd, capacities) are the services' and the domain's, and their refusals
name the field in `error.details.field`. Buying is `POST /v1/orders` with a `pass` or a
`vip_upgrade` item (`web.order_items`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from eventpay.services import passes
from eventpay.services.passes import (
    EventPasses,
    PassInput,
    PassOffer,
    PriceInput,
    RegistrationView,
    VipOffer,
)
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import (
    PUBLIC_BUDGET,
    RATE_LIMITED_RESPONSE,
    READ_BUDGET,
    WRITE_BUDGET,
)
from eventpay.web.schemas import MoneyIn, MoneyOut, Strict

router = APIRouter(tags=["passes and VIP"], responses=RATE_LIMITED_RESPONSE)

PriceField = StrictInt | MoneyIn


def _price(value: StrictInt | MoneyIn) -> PriceInput:
    if isinstance(value, MoneyIn):
        return PriceInput(value.amount, value.currency)
    return PriceInput(value)


class GateIn(Strict):
    capacity_per_day: StrictInt | None = Field(
        description="Spectators admitted per event day; null: no limit."
    )


class PassIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="1 to 100 characters.")
    price: PriceField = Field(
        description="Unit price in minor units of the event's currency, or a money object."
    )
    days: list[str] | Literal["all"] = Field(
        description='Event days (YYYY-MM-DD, in the event\'s time zone) or "all".',
        max_length=400,
    )


class VipIn(Strict):
    capacity: StrictInt | None = Field(description="VIP places; null: no limit.")
    prices: dict[str, PriceField] = Field(
        max_length=200,
        description="The full VIP entry price of each class offering an upgrade, by class id; "
        "a class not named offers none.",
    )


class DayOut(BaseModel):
    date: dt.date
    capacity: int | None
    places_left: int | None


class PassOut(BaseModel):
    id: str
    event_id: str
    name: str
    price: MoneyOut
    days: list[dt.date]
    places_left: int | None = Field(description="The fewest places left over its days.")


class EventPassesOut(BaseModel):
    event_id: str
    currency: str
    days: list[DayOut]
    passes: list[PassOut]


class VipPriceOut(BaseModel):
    class_id: str
    code: str
    price: MoneyOut


class VipOut(BaseModel):
    event_id: str
    offered: bool
    capacity: int | None
    places_left: int | None
    prices: list[VipPriceOut]


class RegistrationDetailOut(BaseModel):
    id: str
    order_id: str
    event_id: str
    competitor_id: str
    class_ids: list[str]
    status: str
    vip: bool = Field(description="Upgraded to VIP (the upgrade is paid).")


def _pass_out(offer: PassOffer) -> PassOut:
    p = offer.pass_type
    return PassOut(
        id=p.id,
        event_id=p.event_id,
        name=p.name,
        price=MoneyOut.of(p.price),
        days=list(p.days),
        places_left=offer.places_left,
    )


def _passes_out(found: EventPasses) -> EventPassesOut:
    return EventPassesOut(
        event_id=found.event_id,
        currency=found.currency,
        days=[DayOut(date=d.day, capacity=d.capacity, places_left=d.left) for d in found.days],
        passes=[_pass_out(offer) for offer in found.passes],
    )


def _vip_out(offer: VipOffer) -> VipOut:
    return VipOut(
        event_id=offer.event_id,
        offered=offer.offered,
        capacity=offer.capacity,
        places_left=offer.places_left,
        prices=[
            VipPriceOut(class_id=p.class_id, code=p.code, price=MoneyOut.of(p.price))
            for p in offer.prices
        ],
    )


@router.put(
    "/v1/events/{event_id}/gate", response_model=EventPassesOut, dependencies=[WRITE_BUDGET]
)
async def set_gate(
    event_id: str, body: GateIn, container: ContainerDep, caller: CallerDep
) -> EventPassesOut:
    """Set the gate's capacity per event day (its organizer or an admin; anyone else 404
    `event_not_found`). 409 `capacity_below_taken` when a day has more passes sold."""
    found = await run_in_threadpool(
        lambda: passes.set_gate_capacity(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            capacity=body.capacity_per_day,
            now=container.clock(),
        )
    )
    return _passes_out(found)


@router.post(
    "/v1/events/{event_id}/passes",
    status_code=201,
    response_model=PassOut,
    dependencies=[WRITE_BUDGET],
)
async def create_pass(
    event_id: str, body: PassIn, container: ContainerDep, caller: CallerDep
) -> PassOut:
    """Create a pass type: single day, 2-day, 3-day or full event (`days`). 422 naming the
    field (`days`, `name`, `price`)."""
    asked = PassInput(name=body.name, price=_price(body.price), days=body.days)
    created = await run_in_threadpool(
        lambda: passes.create_pass_type(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            asked=asked,
            now=container.clock(),
        )
    )
    return _pass_out(created)


@router.get(
    "/v1/events/{event_id}/passes", response_model=EventPassesOut, dependencies=[PUBLIC_BUDGET]
)
async def list_passes(event_id: str, container: ContainerDep) -> EventPassesOut:
    """The event's days with the gate's places left, and its passes with price and places
    left (public)."""
    found = await run_in_threadpool(
        lambda: passes.list_passes(uow_factory=container.uow_factory, event_id=event_id)
    )
    return _passes_out(found)


@router.put("/v1/events/{event_id}/vip", response_model=VipOut, dependencies=[WRITE_BUDGET])
async def set_vip(event_id: str, body: VipIn, container: ContainerDep, caller: CallerDep) -> VipOut:
    """Set the event's VIP capacity and its classes' full VIP prices (replacing the previous
    ones). 409 `capacity_below_taken`; 422 naming the field (`prices.<class_id>`)."""
    prices = {class_id: _price(price) for class_id, price in body.prices.items()}
    offer = await run_in_threadpool(
        lambda: passes.set_vip(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            capacity=body.capacity,
            prices=prices,
            now=container.clock(),
        )
    )
    return _vip_out(offer)


@router.get("/v1/events/{event_id}/vip", response_model=VipOut, dependencies=[PUBLIC_BUDGET])
async def get_vip(event_id: str, container: ContainerDep) -> VipOut:
    """The event's VIP prices and places left (public)."""
    offer = await run_in_threadpool(
        lambda: passes.get_vip(uow_factory=container.uow_factory, event_id=event_id)
    )
    return _vip_out(offer)


@router.get(
    "/v1/registrations/{registration_id}",
    response_model=RegistrationDetailOut,
    dependencies=[READ_BUDGET],
)
async def get_registration(
    registration_id: str, container: ContainerDep, caller: CallerDep
) -> RegistrationDetailOut:
    """A registration for its buyer, its competitor or an admin, with `vip` once upgraded;
    anyone else 404 `registration_not_found`."""
    found: RegistrationView = await run_in_threadpool(
        lambda: passes.get_registration(
            uow_factory=container.uow_factory, caller=caller, registration_id=registration_id
        )
    )
    r = found.registration
    return RegistrationDetailOut(
        id=r.id,
        order_id=r.order_id,
        event_id=r.event_id,
        competitor_id=r.competitor_id,
        class_ids=list(r.class_ids),
        status=r.status.value,
        vip=found.vip,
    )
