"""The steps of every catalog edit, shared by the API's use cases (`catalog_admin`) and the
file import (`catalog_import`): create an event, apply a patch, each inside the caller's unit of
work, checked, stored and audited the same way whoever asks.

What is checked where: the domain's `catalog_rules` decide whether a draft is acceptable and
name the offending field (422 `invalid_event` with `details.field`; for a PATCH a class is named
by its index in the request, or `classes[<id>]` when the request did not touch it); these
steps add what needs the database: ids already taken (409 `event_exists`, `class_exists`),
orders that pin an event's currency and time zone (409 `event_has_orders`) or a class (409
`class_has_orders`: no removal), and capacities below the places taken (409
`capacity_below_taken`, decided by the places port in one conditional statement). A price change
never reaches an order already placed: orders keep their own priced lines.

Audit rows are written on the event (`entity_type` "event"): `event.created` with the whole
event, `event.updated` with each changed field before and after, `class.added`,
`class.updated` (field by field), `class.removed`. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventpay.domain import Event, Money
from eventpay.domain.catalog_rules import (
    CLASS_FIELDS,
    EVENT_FIELDS,
    Change,
    ClassChanges,
    ClassDraft,
    EventDraft,
    Problem,
    build_event,
    changes,
    class_changes,
    draft_of,
    problems,
)
from eventpay.domain.places import class_stock_id
from eventpay.ports import Principal, Role, UnitOfWork
from eventpay.services.audit import record
from eventpay.services.errors import Conflict, InvalidRequest, NotFound

_REQUIRED_CLASS_FIELDS = ("code", "name", "member_price", "non_member_price")


@dataclass(frozen=True, slots=True)
class ClassPatch:
    """One class of a PATCH: `id` names an existing class (the given `fields` change) or a
    new one (None: the server chooses its id)."""

    id: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventPatch:
    """The fields a PATCH gives (absent ones stay), the classes it touches, those it removes."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    classes: tuple[ClassPatch, ...] = ()
    remove_class_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventEdit:
    """What a create, update or delete did (or, in a dry run, would do)."""

    event_id: str
    action: str  # "create", "update", "unchanged", "delete"
    event: Event | None
    changes: dict[str, Change] = field(default_factory=dict)
    classes: ClassChanges = field(default_factory=lambda: ClassChanges((), (), {}))


def _not_found(event_id: str) -> NotFound:
    return NotFound("event_not_found", "No such event.", {"event_id": event_id})


def manages(caller: Principal, organizer_id: str) -> bool:
    return caller.role is Role.ADMIN or (
        caller.role is Role.ORGANIZER and caller.organizer_id == organizer_id
    )


def load_managed(uow: UnitOfWork, caller: Principal, event_id: str) -> Event:
    event = uow.catalog.lock_event(event_id)
    if event is None or not manages(caller, event.organizer_id):
        raise _not_found(event_id)
    return event


def _invalid(found: Sequence[Problem], fields_of: Mapping[int, str] | None = None) -> None:
    def name(problem: Problem) -> str:
        if fields_of is None or problem.path[0] != "classes":
            return problem.field
        index = problem.path[1]
        assert isinstance(index, int)
        rest = Problem(problem.path[2:], "").field
        return f"classes{fields_of[index]}" + (f".{rest}" if rest else "")

    if not found:
        return
    listed = [{"field": name(p), "message": p.message} for p in found]
    first = listed[0]
    raise InvalidRequest(
        "invalid_event",
        f"{first['field']}: {first['message']}.",
        {"field": first["field"], "problems": listed},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    return value


def before_after(diff: Mapping[str, Change]) -> dict[str, dict[str, Any]]:
    return {k: {"before": _plain(a), "after": _plain(b)} for k, (a, b) in diff.items()}


def snapshot(event: Event) -> dict[str, Any]:
    out = {name: _plain(getattr(event, name)) for name in EVENT_FIELDS}
    out["organizer_id"] = event.organizer_id
    out["classes"] = [
        {n: _plain(getattr(c, n)) for n in ("id", *CLASS_FIELDS)} for c in event.classes
    ]
    return out


def audit_event(
    uow: UnitOfWork, event_id: str, action: str, caller: Principal, now: datetime, **details: Any
) -> None:
    record(
        uow,
        entity_type="event",
        entity_id=event_id,
        action=action,
        actor=caller,
        now=now,
        details=details,
    )


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _require_free_class_ids(uow: UnitOfWork, class_ids: Iterable[str | None]) -> None:
    wanted = [class_id for class_id in class_ids if class_id is not None]
    taken = uow.catalog.taken_class_ids(wanted)
    if taken:
        class_id = sorted(taken)[0]
        raise Conflict(
            "class_exists",
            f"Class id {class_id!r} is already used by an event.",
            {"class_id": class_id},
        )


def _ensure_capacities(uow: UnitOfWork, event: Event, class_ids: Iterable[str]) -> None:
    for class_id in class_ids:
        capacity = event.class_by_id(class_id).capacity
        stock_id = class_stock_id(class_id)
        if not uow.places.ensure_stock(
            stock_id, event_id=event.id, kind="class", capacity=capacity
        ):
            taken = uow.places.levels([stock_id])[stock_id].taken
            raise Conflict(
                "capacity_below_taken",
                f"Class {class_id!r} already has {taken} places taken; capacity {capacity} "
                "would be below that.",
                {"class_id": class_id, "capacity": capacity, "taken": taken},
            )


# ---------------------------------------------------------------------------- create


def create_in(uow: UnitOfWork, caller: Principal, now: datetime, draft: EventDraft) -> EventEdit:
    organizer_id = draft.organizer_id
    if caller.role is Role.ORGANIZER and organizer_id is None:
        organizer_id = caller.organizer_id
    if caller.role is Role.ADMIN and not organizer_id:
        raise InvalidRequest(
            "invalid_event",
            "organizer_id: an admin names the organizer the event belongs to.",
            {"field": "organizer_id"},
        )
    if organizer_id is None or not manages(caller, organizer_id):
        raise NotFound("not_found", "No such resource.")
    _invalid(problems(draft))
    if uow.catalog.get_organizer(organizer_id) is None:
        raise InvalidRequest(
            "invalid_event",
            f"organizer_id: no organizer {organizer_id!r}.",
            {"field": "organizer_id"},
        )
    event_id = draft.id or _new_id("evt")
    if uow.catalog.get_event(event_id) is not None:
        raise Conflict("event_exists", f"Event {event_id!r} exists.", {"event_id": event_id})
    _require_free_class_ids(uow, (c.id for c in draft.classes))
    draft = replace(
        draft,
        id=event_id,
        organizer_id=organizer_id,
        classes=tuple(replace(c, id=c.id or _new_id("cls")) for c in draft.classes),
    )
    event = build_event(draft)
    uow.catalog.add_event(event, created_at=now)
    audit_event(uow, event.id, "event.created", caller, now, event=snapshot(event))
    return EventEdit(event.id, "create", event, classes=ClassChanges(event.classes, (), {}))


def _patched_classes(
    old: Event, patch: EventPatch
) -> tuple[tuple[ClassDraft, ...], dict[int, str]]:
    """The classes after the patch, and each one's name in the request (for 422 fields)."""
    drafts = {c.id: c for c in draft_of(old).classes}
    order: list[str | None] = [c.id for c in old.classes]
    new: list[ClassDraft] = []
    named: dict[str | None, str] = {c.id: f"[{c.id}]" for c in old.classes}
    for index, given in enumerate(patch.classes):
        unknown = set(given.fields) - set(CLASS_FIELDS)
        if unknown:
            raise ValueError(f"not class fields: {sorted(unknown)}")
        if given.id is not None and given.id in drafts:
            drafts[given.id] = replace(drafts[given.id], **given.fields)
            named[given.id] = f"[{index}]"
            continue
        missing = [name for name in _REQUIRED_CLASS_FIELDS if name not in given.fields]
        if missing:
            where = f"classes[{index}].{missing[0]}"
            raise InvalidRequest(
                "invalid_event", f"{where}: a new class needs it.", {"field": where}
            )
        new.append(ClassDraft(id=given.id or _new_id("cls"), **given.fields))
        named[new[-1].id] = f"[{index}]"
    for position, class_id in enumerate(patch.remove_class_ids):
        if class_id not in order:
            where = f"remove_class_ids[{position}]"
            raise InvalidRequest(
                "invalid_event", f"{where}: no class {class_id!r} here.", {"field": where}
            )
        order.remove(class_id)
    classes = (*(drafts[class_id] for class_id in order), *new)
    return classes, {i: named[c.id] for i, c in enumerate(classes)}


def update_in(
    uow: UnitOfWork, caller: Principal, now: datetime, old: Event, patch: EventPatch
) -> EventEdit:
    unknown = set(patch.fields) - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"not event fields: {sorted(unknown)}")
    classes, fields_of = _patched_classes(old, patch)
    draft = replace(draft_of(old), **patch.fields, classes=classes)
    _invalid(problems(draft), fields_of)
    new = build_event(draft, fee_policy=old.fee_policy, payout_reserve_days=old.payout_reserve_days)
    diff, class_diff = changes(old, new), class_changes(old.classes, new.classes)
    if not diff and not class_diff:
        return EventEdit(old.id, "unchanged", old)
    _require_free_class_ids(uow, (c.id for c in class_diff.added))
    pinned = {"currency", "timezone"} & diff.keys()
    if pinned and uow.catalog.event_has_orders(old.id):
        name = sorted(pinned)[0]
        raise Conflict(
            "event_has_orders",
            f"The event has orders: its {name} can no longer change.",
            {"event_id": old.id, "field": name},
        )
    removed = [c.id for c in class_diff.removed]
    used = uow.catalog.classes_with_orders(removed)
    if used:
        class_id = sorted(used)[0]
        raise Conflict(
            "class_has_orders",
            f"Class {class_id!r} has orders and cannot be removed.",
            {"class_id": class_id},
        )
    uow.catalog.update_event(new)
    resized = [cid for cid, d in class_diff.updated.items() if "capacity" in d]
    _ensure_capacities(uow, new, [*(c.id for c in class_diff.added), *resized])
    if diff:
        audit_event(uow, new.id, "event.updated", caller, now, changes=before_after(diff))
    for c in class_diff.added:
        snapshot = {n: _plain(getattr(c, n)) for n in CLASS_FIELDS}
        audit_event(uow, new.id, "class.added", caller, now, class_id=c.id, values=snapshot)
    for class_id, class_fields in class_diff.updated.items():
        audit_event(
            uow,
            new.id,
            "class.updated",
            caller,
            now,
            class_id=class_id,
            changes=before_after(class_fields),
        )
    for c in class_diff.removed:
        audit_event(uow, new.id, "class.removed", caller, now, class_id=c.id, code=c.code)
    return EventEdit(new.id, "update", new, diff, class_diff)
