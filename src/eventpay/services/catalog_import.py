"""Loading a whole catalog from a file (`eventpay catalog import`): organizers, events and
everything they sell (`catalog_products`: gate places, passes, VIP, teams, merchandise, sponsor
packages, promo codes; series across events) created or updated in one transaction, all or
nothing, by an admin (the operator).

Running it again changes nothing: each event is compared with what is stored and only the
difference is applied (`catalog_edits.update_in`), its classes matched by id, else by code; the
classes a file no longer lists are removed (refused once ordered). An organizer's name and
PayPal address follow the file (`organizer.created`, `organizer.updated`, audited); the
platform fee agreed with it is not the file's to change. Products follow, event by event
(`catalog_products`), then series. With `dry_run=True` the same report is built and nothing is
committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from eventpay.domain import Event, Organizer
from eventpay.domain.catalog_rules import CLASS_FIELDS, EVENT_FIELDS, Change, EventDraft
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.services.audit import record
from eventpay.services.catalog_edits import (
    ClassPatch,
    EventEdit,
    EventPatch,
    before_after,
    create_in,
    update_in,
)
from eventpay.services.catalog_products import (
    EventProducts,
    ProductEdit,
    put_event_products,
    put_series,
)
from eventpay.services.errors import Conflict, InvalidRequest, NotFound, ServiceError
from eventpay.services.series import SeriesSetup


@dataclass(frozen=True, slots=True)
class OrganizerEdit:
    organizer_id: str
    action: str  # "create", "update", "unchanged"
    changes: dict[str, Change] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    organizers: tuple[OrganizerEdit, ...]
    events: tuple[EventEdit, ...]
    dry_run: bool
    products: tuple[ProductEdit, ...] = ()

    @property
    def changed(self) -> bool:
        actions = [o.action for o in self.organizers] + [e.action for e in self.events]
        return any(a != "unchanged" for a in (*actions, *(p.action for p in self.products)))


def _put_organizer(
    uow: UnitOfWork, caller: Principal, now: datetime, organizer: Organizer
) -> OrganizerEdit:
    old = uow.catalog.get_organizer(organizer.id)
    if old is None:
        uow.catalog.add_organizer(organizer, created_at=now)
        details = {"name": organizer.name, "paypal_email": organizer.paypal_email}
        record(
            uow,
            entity_type="organizer",
            entity_id=organizer.id,
            action="organizer.created",
            actor=caller,
            now=now,
            details=details,
        )
        return OrganizerEdit(organizer.id, "create")
    # The platform fee agreed with an organizer is not the file's to change.
    new = replace(organizer, fee_policy=old.fee_policy)
    diff = {
        name: (getattr(old, name), getattr(new, name))
        for name in ("name", "paypal_email")
        if getattr(old, name) != getattr(new, name)
    }
    if not diff:
        return OrganizerEdit(organizer.id, "unchanged")
    uow.catalog.update_organizer(new)
    record(
        uow,
        entity_type="organizer",
        entity_id=organizer.id,
        action="organizer.updated",
        actor=caller,
        now=now,
        details={"changes": before_after(diff)},
    )
    return OrganizerEdit(organizer.id, "update", diff)


def _as_patch(old: Event, draft: EventDraft) -> EventPatch:
    """The patch that makes `old` what the file says: every field, its classes matched by id
    or else by code, and the classes the file no longer lists removed."""
    by_code = {c.code.lower(): c.id for c in old.classes}
    classes = tuple(
        ClassPatch(
            id=c.id or by_code.get(c.code.lower()),
            fields={name: getattr(c, name) for name in CLASS_FIELDS},
        )
        for c in draft.classes
    )
    listed = {c.id for c in classes}
    return EventPatch(
        fields={name: getattr(draft, name) for name in EVENT_FIELDS},
        classes=classes,
        remove_class_ids=tuple(c.id for c in old.classes if c.id not in listed),
    )


def _put_event(uow: UnitOfWork, caller: Principal, now: datetime, draft: EventDraft) -> EventEdit:
    assert draft.id is not None
    old = uow.catalog.lock_event(draft.id)
    if old is None:
        return create_in(uow, caller, now, draft)
    if draft.organizer_id not in (None, old.organizer_id):
        raise Conflict(
            "event_exists",
            f"Event {draft.id!r} belongs to another organizer.",
            {"event_id": draft.id},
        )
    return update_in(uow, caller, now, old, _as_patch(old, draft))


def import_catalog(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    now: datetime,
    organizers: Sequence[Organizer],
    events: Sequence[EventDraft],
    products: Mapping[str, EventProducts] | None = None,
    series: Sequence[SeriesSetup] = (),
    dry_run: bool = False,
) -> ImportReport:
    """Create or update every organizer, event and product of a catalog file (`products` by
    event id), in one transaction (all or nothing); running it again changes nothing. Events
    need their id in the file."""
    if caller.role is not Role.ADMIN:
        raise NotFound("not_found", "No such resource.")
    for position, draft in enumerate(events):
        if draft.id is None:
            where = f"events[{position}].id"
            raise InvalidRequest(
                "invalid_event", f"{where}: an imported event needs its id.", {"field": where}
            )
    with uow_factory() as uow:
        organizer_edits = tuple(_put_organizer(uow, caller, now, o) for o in organizers)
        event_edits = []
        for draft in events:
            try:
                event_edits.append(_put_event(uow, caller, now, draft))
            except ServiceError as exc:
                exc.details.setdefault("event_id", draft.id)
                raise
        product_edits: list[ProductEdit] = []
        for position, draft in enumerate(events):
            wanted = (products or {}).get(draft.id or "")
            if wanted is None:
                continue
            try:
                product_edits.extend(
                    put_event_products(
                        uow,
                        caller,
                        now,
                        event_id=event_edits[position].event_id,
                        products=wanted,
                        path=f"events[{position}]",
                    )
                )
            except ServiceError as exc:
                exc.details.setdefault("event_id", draft.id)
                raise
        product_edits.extend(put_series(uow, caller, now, series))
        report = ImportReport(organizer_edits, tuple(event_edits), dry_run, tuple(product_edits))
        if report.changed and not dry_run:
            uow.commit()
    return report
