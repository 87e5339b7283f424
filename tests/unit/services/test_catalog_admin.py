"""Catalog management through the service: who may, what is refused, what is audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from eventpay.domain import Money, Organizer
from eventpay.domain.catalog_rules import ClassDraft, EventDraft, Price
from eventpay.domain.places import class_stock_id
from eventpay.ports import Principal, Role
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import catalog, catalog_admin, catalog_import
from eventpay.services.catalog_admin import ClassPatch, EventPatch
from eventpay.services.errors import Conflict, InvalidRequest, NotFound

from .scenario import ADMIN, BUYER, SPRING, World, item

OWNER = Principal(user_id="o-1", role=Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = Principal(user_id="o-2", role=Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)


def new_draft(world: World, **overrides: Any) -> EventDraft:
    now = world.clock()
    starts = now + timedelta(days=90)
    draft = EventDraft(
        id="autumn-open",
        organizer_id=None,
        name="Autumn Open",
        timezone="Europe/Berlin",
        currency="eur",
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
        registration_opens_at=now,
        registration_closes_at=starts - timedelta(days=2),
        refund_cutoff_at=starts - timedelta(days=14),
        classes=(
            ClassDraft(
                id="autumn-spl",
                code="SPL",
                name="SPL",
                member_price=Price(3000),
                non_member_price=Price(4000, "EUR"),
                early_bird_price=Price(2500),
                early_bird_deadline=now + timedelta(days=30),
                capacity=40,
            ),
            ClassDraft(
                id=None, code="SQ", name="SQ", member_price=Price(0), non_member_price=Price(1000)
            ),
        ),
    )
    return replace(draft, **overrides)


def create(world: World, caller: Principal = OWNER, **overrides: Any) -> catalog_admin.EventEdit:
    return catalog_admin.create_event(
        uow_factory=world.uow_factory,
        caller=caller,
        now=world.clock(),
        draft=new_draft(world, **overrides),
    )


def patch(
    world: World, event_id: str, caller: Principal = OWNER, **kwargs: Any
) -> catalog_admin.EventEdit:
    return catalog_admin.update_event(
        uow_factory=world.uow_factory,
        caller=caller,
        now=world.clock(),
        event_id=event_id,
        patch=EventPatch(**kwargs),
    )


def delete(world: World, event_id: str, caller: Principal = OWNER) -> None:
    catalog_admin.delete_event(
        uow_factory=world.uow_factory, caller=caller, now=world.clock(), event_id=event_id
    )


def audit(world: World, event_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e.action, e.details)
        for e in world.store.tables.audit
        if e.entity_type == "event" and e.entity_id == event_id
    ]


def test_an_organizer_creates_an_event_of_its_own_with_capacities_and_an_audit_row(
    world: World,
) -> None:
    edit = create(world)

    stored = catalog.get_event(uow_factory=world.uow_factory, event_id="autumn-open")
    assert edit.event == stored
    assert stored.organizer_id == ORGANIZER_ID
    assert stored.currency == "eur"
    spl, sq = stored.classes
    assert spl.non_member_price == Money(4000, "eur")
    assert sq.id.startswith("cls-")
    assert world.store.tables.stock[class_stock_id("autumn-spl")] == [40, 0]
    assert world.store.tables.stock[class_stock_id(sq.id)] == [None, 0]
    ((action, details),) = audit(world, "autumn-open")
    assert action == "event.created"
    assert details["event"]["classes"][0]["capacity"] == 40
    assert world.store.tables.audit[-1].actor_id == "o-1"


def test_the_server_chooses_an_event_id_when_none_is_given(world: World) -> None:
    edit = create(world, id=None)

    assert edit.event_id.startswith("evt-")
    assert catalog.get_event(uow_factory=world.uow_factory, event_id=edit.event_id)


def test_an_admin_creates_for_any_organizer_but_must_name_an_existing_one(world: World) -> None:
    with pytest.raises(InvalidRequest) as unnamed:
        create(world, ADMIN)
    with pytest.raises(InvalidRequest) as unknown:
        create(world, ADMIN, organizer_id="org-nobody")

    assert unnamed.value.details["field"] == unknown.value.details["field"] == "organizer_id"
    edit = create(world, ADMIN, organizer_id=PAYOUT_ORGANIZER_ID)
    assert edit.event is not None
    assert edit.event.organizer_id == PAYOUT_ORGANIZER_ID


@pytest.mark.parametrize("caller", [BUYER, RIVAL])
def test_a_competitor_or_an_organizer_creating_for_another_gets_404(
    world: World, caller: Principal
) -> None:
    with pytest.raises(NotFound) as refused:
        create(world, caller, organizer_id=ORGANIZER_ID)

    assert refused.value.code == "not_found"
    assert "autumn-open" not in world.store.tables.events


def test_another_organizers_event_answers_404_to_edits_and_deletes(world: World) -> None:
    before = world.store.snapshot()
    for caller in (RIVAL, BUYER):
        with pytest.raises(NotFound) as edited:
            patch(world, SPRING, caller, fields={"name": "Mine now"})
        with pytest.raises(NotFound) as deleted:
            delete(world, SPRING, caller)
        assert edited.value.code == deleted.value.code == "event_not_found"
    with pytest.raises(NotFound):
        patch(world, "no-such-event", ADMIN, fields={"name": "x"})
    assert world.store.tables.events == before.events


def test_a_taken_event_or_class_id_is_a_conflict(world: World) -> None:
    with pytest.raises(Conflict) as event_taken:
        create(world, id=SPRING)
    with pytest.raises(Conflict) as class_taken:
        create(world, classes=(replace(new_draft(world).classes[0], id="spring-spl"),))

    assert event_taken.value.code == "event_exists"
    assert (class_taken.value.code, class_taken.value.details) == (
        "class_exists",
        {"class_id": "spring-spl"},
    )


def test_bad_input_is_422_naming_the_field(world: World) -> None:
    late_bird = replace(new_draft(world).classes[1], id="x", early_bird_price=Price(1))
    late_bird = replace(late_bird, early_bird_deadline=world.clock() + timedelta(days=365))

    with pytest.raises(InvalidRequest) as raised:
        create(world, classes=(new_draft(world).classes[0], late_bird))

    assert raised.value.code == "invalid_event"
    assert raised.value.details["field"] == "classes[1].early_bird_deadline"
    with pytest.raises(InvalidRequest) as dollars:
        patch(world, SPRING, classes=(ClassPatch("spring-sq", {"member_price": Price(1, "eur")}),))
    assert dollars.value.details["field"] == "classes[0].member_price"
    with pytest.raises(InvalidRequest) as moved:
        patch(world, SPRING, fields={"starts_at": world.clock() + timedelta(days=30)})
    # The change that breaks an untouched class names the class by its id.
    assert {p["field"] for p in moved.value.details["problems"]} >= {
        "registration_closes_at",
        "classes[spring-spl].early_bird_deadline",
    }


def test_a_new_class_in_a_patch_needs_its_prices(world: World) -> None:
    with pytest.raises(InvalidRequest) as raised:
        patch(world, SPRING, classes=(ClassPatch(None, {"code": "BR", "name": "Bass Race"}),))

    assert raised.value.details["field"] == "classes[0].member_price"


def test_a_price_change_leaves_an_order_already_placed_alone(world: World) -> None:
    placed = world.place_order(item(SPRING, "spring-sq"))
    lines_before = [(ln.class_id, ln.amount) for ln in placed.order.lines]

    edit = patch(
        world,
        SPRING,
        classes=(ClassPatch("spring-sq", {"early_bird_price": Price(3300)}),),
    )

    assert lines_before == [("spring-sq", 3500)]  # the early-bird price
    assert edit.classes.updated["spring-sq"]["early_bird_price"] == (
        Money(3500, "usd"),
        Money(3300, "usd"),
    )
    after = world.view(placed.order.id)
    assert [(ln.class_id, ln.amount) for ln in after.order.lines] == lines_before
    assert after.order.total == placed.order.total
    again = world.place_order(item(SPRING, "spring-sq"), buyer=replace(BUYER, user_id="c-9"))
    assert [ln.amount for ln in again.order.lines if ln.class_id == "spring-sq"] == [3300]
    (updated,) = [d for a, d in audit(world, SPRING) if a == "class.updated"]
    assert updated == {
        "class_id": "spring-sq",
        "changes": {
            "early_bird_price": {
                "before": {"amount": 3500, "currency": "usd"},
                "after": {"amount": 3300, "currency": "usd"},
            }
        },
    }


def test_event_fields_are_audited_before_and_after(world: World) -> None:
    old = catalog.get_event(uow_factory=world.uow_factory, event_id=SPRING)

    patch(world, SPRING, ADMIN, fields={"name": "Spring Sound-Off Finals"})

    (updated,) = [d for a, d in audit(world, SPRING) if a == "event.updated"]
    assert updated == {
        "changes": {"name": {"before": old.name, "after": "Spring Sound-Off Finals"}}
    }
    assert world.store.tables.audit[-1].actor_id == ADMIN.user_id


def test_an_edit_that_changes_nothing_writes_nothing(world: World) -> None:
    commits = world.store.commits
    old = catalog.get_event(uow_factory=world.uow_factory, event_id=SPRING)

    edit = patch(world, SPRING, fields={"name": old.name})

    assert edit.action == "unchanged"
    assert world.store.commits == commits


def _take(world: World, stock_id: str, places: int) -> None:
    with world.uow_factory() as uow:
        assert uow.places.take(stock_id, places)
        uow.commit()


def test_capacity_below_the_places_taken_is_409_and_changes_nothing(world: World) -> None:
    create(world)
    _take(world, class_stock_id("autumn-spl"), 3)

    with pytest.raises(Conflict) as raised:
        patch(world, "autumn-open", classes=(ClassPatch("autumn-spl", {"capacity": 2}),))

    assert raised.value.code == "capacity_below_taken"
    assert raised.value.details == {"class_id": "autumn-spl", "capacity": 2, "taken": 3}
    assert world.store.tables.stock[class_stock_id("autumn-spl")] == [40, 3]
    patch(world, "autumn-open", classes=(ClassPatch("autumn-spl", {"capacity": 3}),))
    assert world.store.tables.stock[class_stock_id("autumn-spl")] == [3, 3]


def test_classes_are_added_and_removed_unless_orders_reference_them(world: World) -> None:
    world.place_order(item(SPRING, "spring-spl"))

    with pytest.raises(Conflict) as used:
        patch(world, SPRING, remove_class_ids=("spring-spl",))
    assert used.value.code == "class_has_orders"

    bass = {"code": "BR", "name": "Bass Race", "member_price": Price(100)}
    edit = patch(
        world,
        SPRING,
        classes=(
            ClassPatch("spring-bass", {**bass, "non_member_price": Price(200), "capacity": 5}),
        ),
        remove_class_ids=("spring-sq",),
    )

    event = edit.event
    assert event is not None
    assert [c.id for c in event.classes] == ["spring-spl", "spring-bass"]
    assert world.store.tables.stock[class_stock_id("spring-bass")] == [5, 0]
    assert class_stock_id("spring-sq") not in world.store.tables.stock
    actions = [a for a, _ in audit(world, SPRING)]
    assert actions[-2:] == ["class.added", "class.removed"]


def test_currency_and_time_zone_are_pinned_once_orders_exist(world: World) -> None:
    create(world)
    patch(world, "autumn-open", fields={"timezone": "Europe/Paris", "currency": "usd"})
    world.place_order(item(SPRING))

    with pytest.raises(Conflict) as raised:
        patch(world, SPRING, fields={"currency": "eur"})

    assert (raised.value.code, raised.value.details["field"]) == ("event_has_orders", "currency")
    assert catalog.get_event(uow_factory=world.uow_factory, event_id=SPRING).currency == "usd"


def test_an_event_with_orders_cannot_be_deleted_one_without_can(world: World) -> None:
    world.place_order(item(SPRING))
    with pytest.raises(Conflict) as raised:
        delete(world, SPRING)
    assert raised.value.code == "event_has_orders"
    assert "cancel" in raised.value.message

    create(world)
    delete(world, "autumn-open")

    assert "autumn-open" not in world.store.tables.events
    assert class_stock_id("autumn-spl") not in world.store.tables.stock
    assert [a for a, _ in audit(world, "autumn-open")] == ["event.created", "event.deleted"]


def _import(world: World, events: list[EventDraft], *, dry_run: bool = False) -> Any:
    operator = Principal(user_id="cli:catalog-import", role=Role.ADMIN)
    return catalog_import.import_catalog(
        uow_factory=world.uow_factory,
        caller=operator,
        now=world.clock(),
        organizers=[Organizer(id="org-new", name="New Club", paypal_email="pay@new.example")],
        events=events,
        dry_run=dry_run,
    )


def test_an_import_is_all_or_nothing_idempotent_and_its_dry_run_writes_nothing(
    world: World,
) -> None:
    drafts = [new_draft(world, organizer_id="org-new", classes=new_draft(world).classes[:1])]
    before = world.store.snapshot()

    dry = _import(world, drafts, dry_run=True)

    assert [(o.organizer_id, o.action) for o in dry.organizers] == [("org-new", "create")]
    assert [(e.event_id, e.action) for e in dry.events] == [("autumn-open", "create")]
    assert world.store.tables.events == before.events
    assert world.store.tables.audit == before.audit

    first = _import(world, drafts)
    second = _import(world, drafts)

    assert first.changed
    assert not second.changed
    assert [e.action for e in second.events] == ["unchanged"]
    renamed = [
        replace(drafts[0], name="Autumn Open II", classes=(replace(drafts[0].classes[0], id=None),))
    ]
    third = _import(world, renamed)
    assert [(e.action, list(e.changes)) for e in third.events] == [("update", ["name"])]
    assert not third.events[0].classes


def test_only_an_admin_imports_and_every_event_needs_its_id(world: World) -> None:
    with pytest.raises(NotFound):
        catalog_import.import_catalog(
            uow_factory=world.uow_factory,
            caller=OWNER,
            now=world.clock(),
            organizers=[],
            events=[],
        )
    with pytest.raises(InvalidRequest) as raised:
        _import(world, [new_draft(world, id=None, organizer_id="org-new")])
    assert raised.value.details["field"] == "events[0].id"
    assert "org-new" not in world.store.tables.organizers
