"""`/v1/events`: the public catalog."""

from __future__ import annotations

from fastapi import APIRouter

from eventpay.services import catalog
from eventpay.web.deps import ContainerDep
from eventpay.web.rate_limits import PUBLIC_BUDGET, RATE_LIMITED_RESPONSE
from eventpay.web.schemas import EventOut, event_out

router = APIRouter(
    prefix="/v1/events",
    tags=["events"],
    dependencies=[PUBLIC_BUDGET],
    responses=RATE_LIMITED_RESPONSE,
)


@router.get("", response_model=list[EventOut])
def list_events(container: ContainerDep) -> list[EventOut]:
    now = container.clock()
    listed = catalog.list_events_with_places(uow_factory=container.uow_factory)
    return [event_out(event, now=now, places_left=left) for event, left in listed]


@router.get("/{event_id}", response_model=EventOut)
def get_event(event_id: str, container: ContainerDep) -> EventOut:
    event, left = catalog.get_event_with_places(
        uow_factory=container.uow_factory, event_id=event_id
    )
    return event_out(event, now=container.clock(), places_left=left)
