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
    return [event_out(e, now=now) for e in catalog.list_events(uow_factory=container.uow_factory)]


@router.get("/{event_id}", response_model=EventOut)
def get_event(event_id: str, container: ContainerDep) -> EventOut:
    event = catalog.get_event(uow_factory=container.uow_factory, event_id=event_id)
    return event_out(event, now=container.clock())
