"""Importing what an event sells (`catalog_import` with `catalog_products`), against the fakes:
every kind of product created through its own use case, a second run changes nothing, a dry
run and a refused file leave the store as it was, and a refusal names its path in the file."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from eventpay.domain import Organizer
from eventpay.domain.catalog_rules import ClassDraft, EventDraft, Price
from eventpay.domain.merchandise import VariantDraft
from eventpay.ports import Principal, Role
from eventpay.services import catalog_import
from eventpay.services.catalog_products import EventProducts, GateSetup, VipSetup
from eventpay.services.errors import Conflict, InvalidRequest
from eventpay.services.merchandise import ProductInput
from eventpay.services.passes import PassInput, PriceInput
from eventpay.services.promo_codes import PromoCodeInput
from eventpay.services.series import SeriesSetup
from eventpay.services.sponsorships import PackageInput
from eventpay.services.teams import TeamSetup

from .scenario import World

OPERATOR = Principal(user_id="cli:catalog-import", role=Role.ADMIN)


def _event(world: World, event_id: str, days: int) -> EventDraft:
    starts = world.clock() + timedelta(days=days)
    return EventDraft(
        id=event_id,
        organizer_id="org-new",
        name=event_id,
        timezone="UTC",
        currency="eur",
        starts_at=starts,
        ends_at=starts + timedelta(hours=30),
        registration_opens_at=world.clock(),
        registration_closes_at=starts - timedelta(days=2),
        refund_cutoff_at=starts - timedelta(days=14),
        classes=(
            ClassDraft(
                id=f"{event_id}-spl",
                code="SPL",
                name="SPL",
                member_price=Price(3000),
                non_member_price=Price(4000),
            ),
        ),
    )


def _products() -> EventProducts:
    return EventProducts(
        gate=GateSetup(300),
        pass_types=(PassInput("Weekend", PriceInput(2000), "all"),),
        vip=VipSetup(10, {"SPL": PriceInput(7000)}),
        teams=TeamSetup("SPL", "per_member", 1500, 2, 4, capacity=8),
        merchandise=(
            ProductInput(
                "Cap", (VariantDraft("CAP-1", 1800, stock=30, colour="red"),), pickup=True
            ),
        ),
        sponsor_packages=(PackageInput("booth", "Booth", 40_000, 3),),
        promo_codes=(PromoCodeInput("AUTUMN10", percent_off=Decimal("10")),),
    )


def _import(world: World, products: EventProducts, *, dry_run: bool = False) -> Any:
    events = [_event(world, "autumn-open", 60), _event(world, "autumn-final", 90)]
    return catalog_import.import_catalog(
        uow_factory=world.uow_factory,
        caller=OPERATOR,
        now=world.clock(),
        organizers=[Organizer(id="org-new", name="New Club")],
        events=events,
        products={"autumn-open": products},
        series=[SeriesSetup("Autumn", ("autumn-open", "autumn-final"), {"SPL": 6000})],
        dry_run=dry_run,
    )


def _kinds(report: Any) -> list[tuple[str, str]]:
    return [(p.kind, p.action) for p in report.products]


def test_every_product_is_created_once_and_a_dry_run_writes_nothing(world: World) -> None:
    before = world.store.snapshot()
    dry = _import(world, _products(), dry_run=True)
    assert world.store.snapshot() == before

    created = _import(world, _products())
    again = _import(world, _products())

    expected = [
        ("gate", "update"),
        ("pass_type", "create"),
        ("vip", "create"),
        ("teams", "create"),
        ("product", "create"),
        ("sponsor_package", "create"),
        ("promo_code", "create"),
        ("series", "create"),
    ]
    assert _kinds(dry) == expected
    assert _kinds(created) == expected
    assert not again.changed
    assert {action for _, action in _kinds(again)} == {"unchanged"}
    actions = sorted(a.action for a in world.store.tables.audit if a.actor_id == OPERATOR.user_id)
    for action in (
        "event.gate_capacity_set",
        "event.teams_configured",
        "event.vip_set",
        "merch_product.created",
        "pass_type.created",
        "promo_code.created",
        "series.created",
        "sponsor_package.created",
    ):
        assert actions.count(action) == 1, action


def test_a_refused_product_leaves_the_whole_file_unwritten(world: World) -> None:
    before = world.store.snapshot()
    broken = replace(_products(), vip=VipSetup(10, {"nope": PriceInput(7000)}))

    with pytest.raises(InvalidRequest) as raised:
        _import(world, broken)

    assert raised.value.details["field"] == "events[0].vip.prices.nope"
    assert world.store.snapshot() == before


def test_a_product_that_cannot_be_edited_is_refused_when_the_file_differs(
    world: World,
) -> None:
    _import(world, _products())
    changed = replace(
        _products(), promo_codes=(PromoCodeInput("autumn10", percent_off=Decimal("15")),)
    )

    with pytest.raises(Conflict) as raised:
        _import(world, changed)

    assert raised.value.code == "product_differs"
    assert raised.value.details["field"] == "events[0].promo_codes[0]"
    assert raised.value.details["fields"] == ["percent_off"]
