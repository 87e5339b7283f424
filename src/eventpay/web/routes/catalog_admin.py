"""`POST /v1/events`, `PATCH` and `DELETE /v1/events/{event_id}`: catalog set-up by the event's
organizer or an admin (`services.catalog_admin`).

Each answers with the event exactly as `GET /v1/events/{event_id}` shows it, read afresh after
the change; another organizer's event answers 404 `event_not_found` as an unknown one does.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from eventpay.services import catalog_admin
from eventpay.web.catalog_schemas import EventIn, EventPatchIn, event_draft, event_patch
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, WRITE_BUDGET
from eventpay.web.routes import events
from eventpay.web.schemas import EventOut

router = APIRouter(
    prefix="/v1/events",
    tags=["catalog set-up"],
    dependencies=[WRITE_BUDGET],
    responses=RATE_LIMITED_RESPONSE,
)

_ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "`event_not_found`: unknown, or another organizer's event."},
    422: {
        "description": "`invalid_event` with `details.field` naming the offending field "
        "(e.g. `classes[1].early_bird_deadline`), or `validation_error` for a malformed body."
    },
}


def _as_shown(container: ContainerDep, event_id: str) -> EventOut:
    return events.get_event(event_id, container)


@router.post(
    "",
    status_code=201,
    response_model=EventOut,
    summary="Create an event with its classes",
    responses={
        **_ERRORS,
        404: {
            "description": "`not_found`: the caller manages no catalog (not an organizer "
            "or admin), or an organizer named another organizer."
        },
        409: {"description": "`event_exists` or `class_exists`: an id is taken."},
    },
)
def create_event(body: EventIn, container: ContainerDep, caller: CallerDep) -> EventOut:
    """An organizer creates an event for its own organizer (`organizer_id` may be omitted); an
    admin for any existing organizer, named in `organizer_id`. Ids may be given (lowercase
    slugs) or are chosen by the server. Prices are integers of the event's minor unit or money
    objects in its currency; `capacity` null means no limit. Audited (`event.created`)."""
    edit = catalog_admin.create_event(
        uow_factory=container.uow_factory,
        caller=caller,
        now=container.clock(),
        draft=event_draft(body),
    )
    return _as_shown(container, edit.event_id)


@router.patch(
    "/{event_id}",
    response_model=EventOut,
    summary="Change an event, its classes, prices and capacities",
    responses={
        **_ERRORS,
        409: {
            "description": "`capacity_below_taken` (details `taken`, `capacity`), "
            "`class_has_orders` (a class with orders cannot be removed), `event_has_orders` "
            "(currency and time zone are fixed once ordered), `class_exists`."
        },
    },
)
def update_event(
    event_id: str, body: EventPatchIn, container: ContainerDep, caller: CallerDep
) -> EventOut:
    """Only the fields given change. `classes` lists classes to change (by `id`, only the
    fields given) or to add (a new id, or none, with at least code, name and both prices);
    `remove_class_ids` removes classes no order references. A price change applies to new
    orders only: orders already placed keep their lines. Each change is audited with its
    value before and after (`event.updated`, `class.added`, `class.updated`,
    `class.removed`); an edit that changes nothing writes nothing."""
    catalog_admin.update_event(
        uow_factory=container.uow_factory,
        caller=caller,
        now=container.clock(),
        event_id=event_id,
        patch=event_patch(body),
    )
    return _as_shown(container, event_id)


@router.delete(
    "/{event_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an event no order ever referenced",
    responses={
        404: _ERRORS[404],
        409: {
            "description": "`event_has_orders`: cancel the event instead (the after-sale "
            "path refunds or credits its buyers)."
        },
    },
)
def delete_event(event_id: str, container: ContainerDep, caller: CallerDep) -> Response:
    """Removes the event with its classes, places and promo codes; audited (`event.deleted`)."""
    catalog_admin.delete_event(
        uow_factory=container.uow_factory, caller=caller, now=container.clock(), event_id=event_id
    )
    return Response(status_code=204)
