"""Catalog reads for buyers, and seeding for the demo and tests.

Organizers and events are stored with their own platform fee policy when they have one
(`Organizer.fee_policy`, `Event.fee_policy`); `fee_policy_of` says which policy an event's
orders are charged under, with the same rule `orders.create_order` prices by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from eventpay.domain import Event, FeePolicy, Organizer
from eventpay.domain.places import class_stock_id
from eventpay.domain.pricing import fee_policy_for
from eventpay.ports import UnitOfWork, UnitOfWorkFactory
from eventpay.services.errors import NotFound


def list_events(*, uow_factory: UnitOfWorkFactory) -> Sequence[Event]:
    with uow_factory() as uow:
        return uow.catalog.list_events()


def get_event(*, uow_factory: UnitOfWorkFactory, event_id: str) -> Event:
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
    if event is None:
        raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
    return event


PlacesLeft = Mapping[str, int | None]
"""Places left by class id: capacity less the places paid for or reserved (None: no limit)."""


def _places_left(uow: UnitOfWork, events: Sequence[Event]) -> list[PlacesLeft]:
    ids = [class_stock_id(c.id) for event in events for c in event.classes]
    levels = uow.places.levels(ids)
    out: list[PlacesLeft] = []
    for event in events:
        left: dict[str, int | None] = {}
        for c in event.classes:
            level = levels.get(class_stock_id(c.id))
            left[c.id] = c.capacity if level is None else level.left
        out.append(left)
    return out


def list_events_with_places(*, uow_factory: UnitOfWorkFactory) -> list[tuple[Event, PlacesLeft]]:
    """The catalog with each class's places left, read in one unit of work."""
    with uow_factory() as uow:
        events = uow.catalog.list_events()
        return list(zip(events, _places_left(uow, events), strict=True))


def get_event_with_places(
    *, uow_factory: UnitOfWorkFactory, event_id: str
) -> tuple[Event, PlacesLeft]:
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
        if event is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        return event, _places_left(uow, [event])[0]


def fee_policy_of(
    *, uow_factory: UnitOfWorkFactory, event_id: str, default: FeePolicy
) -> FeePolicy:
    """The policy new orders for `event_id` are charged under; `default` is the platform's."""
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
        if event is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        organizer = uow.catalog.get_organizer(event.organizer_id)
    return fee_policy_for(event=event, organizer=organizer, default=default)


def add_event(
    *, uow_factory: UnitOfWorkFactory, organizer: Organizer, event: Event, now: datetime
) -> bool:
    """Store `event` (and its organizer if new); False when the event already exists."""
    with uow_factory() as uow:
        if uow.catalog.get_event(event.id) is not None:
            return False
        if uow.catalog.get_organizer(organizer.id) is None:
            uow.catalog.add_organizer(organizer, created_at=now)
        uow.catalog.add_event(event, created_at=now)
        uow.commit()
        return True


def grant_membership(
    *, uow_factory: UnitOfWorkFactory, user_id: str, valid_from: datetime, valid_until: datetime
) -> None:
    with uow_factory() as uow:
        if not uow.catalog.is_member(user_id, at=valid_from):
            uow.catalog.add_membership(
                user_id=user_id, valid_from=valid_from, valid_until=valid_until
            )
        uow.commit()
