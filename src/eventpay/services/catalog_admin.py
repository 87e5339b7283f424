"""Catalog management through the API: organizers and admins create, edit and delete events
and their classes (`POST /v1/events`, `PATCH` and `DELETE /v1/events/{event_id}`).

Who may: an organizer acts on its own organizer's events only, an admin on any organizer's.
Anyone else, and an organizer reaching for another organizer's event, gets exactly what an
unknown event gets (NotFound `event_not_found`); a caller who may not manage any catalog gets
NotFound `not_found` on create, as the admin-only payout routes do (`services.payouts`). The
rules and the audit rows are `catalog_edits`'; an event any order ever referenced cannot be
deleted (409 `event_has_orders`: cancelling is the after-sale path), and its deletion is
audited (`event.deleted`).
"""

from __future__ import annotations

from datetime import datetime

from eventpay.domain.catalog_rules import EventDraft
from eventpay.ports import Principal, UnitOfWorkFactory
from eventpay.services.catalog_edits import (
    ClassPatch,
    EventEdit,
    EventPatch,
    audit_event,
    create_in,
    load_managed,
    snapshot,
    update_in,
)
from eventpay.services.errors import Conflict


def create_event(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    now: datetime,
    draft: EventDraft,
    dry_run: bool = False,
) -> EventEdit:
    """Create an event with its classes; `draft.organizer_id` may be None for an organizer
    (its own), an admin must name one."""
    with uow_factory() as uow:
        edit = create_in(uow, caller, now, draft)
        if not dry_run:
            uow.commit()
    return edit


def update_event(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    now: datetime,
    event_id: str,
    patch: EventPatch,
    dry_run: bool = False,
) -> EventEdit:
    """Apply a partial update; an edit that changes nothing writes nothing (`unchanged`)."""
    with uow_factory() as uow:
        edit = update_in(uow, caller, now, load_managed(uow, caller, event_id), patch)
        if edit.action == "update" and not dry_run:
            uow.commit()
    return edit


def delete_event(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, now: datetime, event_id: str
) -> EventEdit:
    """Delete an event no order ever referenced, with its classes, places and promo codes."""
    with uow_factory() as uow:
        event = load_managed(uow, caller, event_id)
        if uow.catalog.event_has_orders(event_id):
            raise Conflict(
                "event_has_orders",
                "The event has orders and cannot be deleted; cancel it instead (the after-sale "
                "path refunds or credits its buyers).",
                {"event_id": event_id},
            )
        uow.catalog.delete_event(event_id)
        audit_event(uow, event_id, "event.deleted", caller, now, event=snapshot(event))
        uow.commit()
    return EventEdit(event_id, "delete", None)


__all__ = ["ClassPatch", "EventEdit", "EventPatch", "create_event", "delete_event", "update_event"]
