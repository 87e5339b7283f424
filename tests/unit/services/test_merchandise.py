"""Merchandise through the services: an organizer sets products up, buyers order variants next
to entries (shipping charged once per event and address, stock reserved with the order, never
oversold), and the organizer's fulfilment list shows what paid orders bought."""

from __future__ import annotations

from typing import Any

import pytest

from eventpay.domain.merchandise import VariantDraft
from eventpay.ports import Principal, Role
from eventpay.ports.merchandise import variant_stock_id
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import janitor, merchandise
from eventpay.services.basket_merch import AddressInput, MerchandiseItem
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.merchandise import KEEP, ProductInput, ProductPatch, VariantPatch

from .scenario import ADMIN, EXPIRES_IN, SPRING, World, item

OWNER = Principal(user_id="o-1", role=Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = Principal(user_id="o-2", role=Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
HOME = AddressInput(
    name="Dana Bass", line1="12 Subwoofer Lane", city="Austin", postal_code="78701", country="US"
)
OFFICE = AddressInput(
    name="Dana Bass", line1="400 Congress Ave", city="Austin", postal_code="78701", country="US"
)


def hoodie(world: World, *, stock: int | None = 5, flat_rate: int | None = 1200) -> Any:
    return merchandise.create_product(
        uow_factory=world.uow_factory,
        caller=OWNER,
        event_id=SPRING,
        asked=ProductInput(
            name="Hoodie",
            variants=(
                VariantDraft(sku="HOOD-M", size="M", price=4500, stock=stock),
                VariantDraft(sku="HOOD-L", size="L", price=4700, stock=stock),
            ),
            flat_rate=flat_rate,
            pickup=True,
        ),
        now=world.clock(),
    )


def products(world: World) -> dict[str, Any]:
    listed = merchandise.list_products(uow_factory=world.uow_factory, event_id=SPRING)
    return {view.product.name: view for view in listed.products}


def merch(view: Any, n: int = 0, *, quantity: int = 1, to: AddressInput | None = HOME) -> Any:
    variant = view.product.variants[n]
    return MerchandiseItem(
        product_id=view.product.id,
        variant_id=variant.id,
        quantity=quantity,
        method="pickup" if to is None else "ship",
        address=to,
    )


def left(world: World, view: Any, n: int = 0) -> int | None:
    stock_id = variant_stock_id(view.product.variants[n].id)
    with world.uow_factory() as uow:
        return uow.places.levels([stock_id])[stock_id].left


def test_the_organizer_sets_up_a_product_with_stock_per_variant(world: World) -> None:
    created = hoodie(world)
    assert [v.sku for v in created.product.variants] == ["HOOD-M", "HOOD-L"]
    assert created.currency == "usd"
    listed = products(world)["Hoodie"]
    levels = [listed.level(v.id) for v in listed.product.variants]
    assert [(level.capacity, level.left) for level in levels] == [(5, 5), (5, 5)]
    (entry,) = [
        e
        for e in world.store.tables.audit
        if e.action == "merch_product.created" and e.entity_id == created.product.id
    ]
    assert entry.actor_id == "o-1"
    assert entry.details["variants"][0]["stock"] == 5
    # The demo's own products are on sale too.
    assert {"Spring Sound-Off T-shirt", "Sticker pack"} <= set(products(world))


@pytest.mark.parametrize("caller", [RIVAL, Principal(user_id="c", role=Role.COMPETITOR)])
def test_another_organizer_or_a_competitor_cannot_touch_an_event(
    world: World, caller: Principal
) -> None:
    with pytest.raises(NotFound) as refused:
        merchandise.create_product(
            uow_factory=world.uow_factory,
            caller=caller,
            event_id=SPRING,
            asked=ProductInput(name="X", variants=(VariantDraft(sku="X", price=1),), pickup=True),
            now=world.clock(),
        )
    assert refused.value.code == "event_not_found"
    with pytest.raises(NotFound):
        merchandise.fulfilment(uow_factory=world.uow_factory, caller=caller, event_id=SPRING)


def test_bad_input_is_422_naming_the_field(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        merchandise.create_product(
            uow_factory=world.uow_factory,
            caller=ADMIN,
            event_id=SPRING,
            asked=ProductInput(
                name="Cap",
                variants=(VariantDraft(sku="CAP", price=1), VariantDraft(sku="cap", price=1)),
                pickup=True,
            ),
            now=world.clock(),
        )
    assert (refused.value.code, refused.value.details["field"]) == (
        "invalid_product",
        "variants[1].sku",
    )
    assert "Cap" not in products(world)


def test_an_order_prices_merchandise_and_one_shipping_line_per_address(world: World) -> None:
    view = hoodie(world)
    tee = products(world)["Spring Sound-Off T-shirt"]
    placed = world.place_order(
        item(SPRING, "spring-spl"),
        merch(view, 0, quantity=2),
        merch(tee, 1),
        buyer=world.new_buyer(),
    ).order
    kinds = [(line.kind, line.amount) for line in placed.lines if line.kind != "registration"]
    assert ("merchandise", 9000) in kinds
    assert ("merchandise", 2500) in kinds
    # One shipment to one address: the highest flat rate of the two products, once.
    assert [amount for kind, amount in kinds if kind == "shipping"] == [1200]
    assert placed.tax == 0
    assert placed.total == placed.subtotal - placed.discount + placed.fees + placed.tax
    assert placed.total == placed.organizer_net + placed.platform_fee + placed.tax
    assert len(placed.registrations) == 1
    assert left(world, view) == 3


def test_the_same_address_spelled_differently_pays_shipping_once(world: World) -> None:
    view = hoodie(world)
    same = AddressInput(
        name="dana bass",
        line1="12  SUBWOOFER lane",
        city="austin",
        postal_code="78701",
        country="us",
    )
    placed = world.place_order(merch(view, 0), merch(view, 1, to=same)).order
    assert [line.amount for line in placed.lines if line.kind == "shipping"] == [1200]


def test_pickup_is_free_and_two_addresses_are_refused(world: World) -> None:
    view = hoodie(world)
    picked = world.place_order(merch(view, 0, to=None), buyer=world.new_buyer()).order
    assert [line.kind for line in picked.lines if line.kind != "fee"] == ["merchandise"]
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(merch(view, 0), merch(view, 1, to=OFFICE), buyer=world.new_buyer())
    assert refused.value.code == "one_shipping_address"
    assert (refused.value.details["item"], refused.value.details["first_item"]) == (1, 0)


def test_delivery_must_be_one_the_product_offers(world: World) -> None:
    stickers = products(world)["Sticker pack"]
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(merch(stickers, 0))
    assert (refused.value.code, refused.value.details["field"]) == (
        "delivery_not_offered",
        "delivery.method",
    )
    shipped_only = merchandise.create_product(
        uow_factory=world.uow_factory,
        caller=OWNER,
        event_id=SPRING,
        asked=ProductInput(
            name="Poster", variants=(VariantDraft(sku="P", price=900),), flat_rate=300, pickup=False
        ),
        now=world.clock(),
    )
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(merch(shipped_only, 0, to=None))
    assert refused.value.code == "delivery_not_offered"


@pytest.mark.parametrize(
    ("address", "field"),
    [
        (None, "delivery.address"),
        (
            AddressInput(name="D", line1="1 A St", city="X", postal_code="123", country="US"),
            "delivery.address.postal_code",
        ),
        (
            AddressInput(name="D", line1="1 A St", city="X", postal_code="123", country="ZZ"),
            "delivery.address.country",
        ),
        (
            AddressInput(name="", line1="1 A St", city="X", postal_code="1", country="FR"),
            "delivery.address.name",
        ),
    ],
)
def test_a_bad_address_is_422_naming_the_field(
    world: World, address: AddressInput | None, field: str
) -> None:
    view = hoodie(world)
    bad = MerchandiseItem(view.product.id, view.product.variants[0].id, 1, "ship", address)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(item(SPRING, "spring-spl"), bad)
    assert refused.value.code == "invalid_address"
    assert (refused.value.details["item"], refused.value.details["field"]) == (1, field)
    assert world.store.tables.orders == {}


def test_unknown_products_and_variants_are_422(world: World) -> None:
    view = hoodie(world)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(MerchandiseItem("nope", "nope", 1, "pickup"))
    assert refused.value.code == "unknown_product"
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(MerchandiseItem(view.product.id, "nope", 1, "pickup"))
    assert refused.value.code == "unknown_variant"
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(merch(view, 0, quantity=51, to=None))
    assert (refused.value.code, refused.value.details["field"]) == ("invalid_quantity", "quantity")


def test_stock_is_never_oversold_and_expired_reservations_give_it_back(world: World) -> None:
    view = hoodie(world, stock=3)
    first = world.place_order(merch(view, 0, quantity=2), buyer=world.new_buyer())
    with pytest.raises(Conflict) as refused:
        world.place_order(merch(view, 0, quantity=2), buyer=world.new_buyer())
    assert refused.value.code == "sold_out"
    assert refused.value.details["places_left"] == 1
    last = world.place_order(merch(view, 0, quantity=1), buyer=world.new_buyer())
    assert left(world, view) == 0
    world.pay(last.order.id)
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert left(world, view) == 2
    assert world.view(first.order.id).status.value != "paid"
    world.place_order(merch(view, 0, quantity=2), buyer=world.new_buyer())
    assert left(world, view) == 0


def test_paid_orders_are_listed_for_fulfilment_with_their_delivery(world: World) -> None:
    view = hoodie(world)
    unpaid = world.place_order(merch(view, 0), buyer=world.new_buyer())
    shipped = world.place_order(
        item(SPRING, "spring-spl"), merch(view, 1, quantity=2), buyer=world.new_buyer()
    )
    picked = world.place_order(merch(view, 0, to=None), buyer=world.new_buyer())
    world.pay(shipped.order.id)
    world.pay(picked.order.id)
    assert world.view(shipped.order.id).order.registrations[0].status.value == "confirmed"
    found = merchandise.fulfilment(uow_factory=world.uow_factory, caller=OWNER, event_id=SPRING)
    by_order = {row.delivery.order_id: row for row in found.rows}
    assert set(by_order) == {shipped.order.id, picked.order.id}
    assert unpaid.order.id not in by_order
    ship = by_order[shipped.order.id]
    assert (ship.sku, ship.size, ship.delivery.quantity, ship.delivery.method.value) == (
        "HOOD-L",
        "L",
        2,
        "ship",
    )
    assert ship.delivery.address is not None
    assert (ship.delivery.address.line1, ship.delivery.address.country) == (
        "12 Subwoofer Lane",
        "US",
    )
    assert by_order[picked.order.id].delivery.address is None


def patch(world: World, view: Any, change: ProductPatch, caller: Principal = OWNER) -> Any:
    return merchandise.update_product(
        uow_factory=world.uow_factory,
        caller=caller,
        event_id=SPRING,
        product_id=view.product.id,
        patch=change,
        now=world.clock(),
    )


def test_stock_cannot_go_below_what_is_taken(world: World) -> None:
    view = hoodie(world, stock=5)
    world.place_order(merch(view, 0, quantity=3), buyer=world.new_buyer())
    medium = view.product.variants[0].id
    with pytest.raises(Conflict) as refused:
        patch(world, view, ProductPatch(variants=(VariantPatch(medium, price=1, stock=2),)))
    assert refused.value.code == "stock_below_taken"
    assert (refused.value.details["field"], refused.value.details["taken"]) == (
        "variants[0].stock",
        3,
    )
    unchanged = products(world)["Hoodie"]
    assert unchanged.product.variants[0].price == 4500  # nothing of the edit was stored
    assert unchanged.level(medium).capacity == 5
    lowered = patch(world, view, ProductPatch(variants=(VariantPatch(medium, stock=3),)))
    assert (lowered.level(medium).capacity, lowered.level(medium).left) == (3, 0)
    unlimited = patch(world, view, ProductPatch(variants=(VariantPatch(medium, stock=None),)))
    assert unlimited.level(medium).capacity is None


def test_a_price_change_never_alters_an_order_already_placed(world: World) -> None:
    view = hoodie(world)
    placed = world.place_order(merch(view, 0, to=None), buyer=world.new_buyer()).order
    medium = view.product.variants[0].id
    patch(world, view, ProductPatch(variants=(VariantPatch(medium, price=3900),)))
    assert world.view(placed.id).order.lines[0].amount == 4500
    later = world.place_order(merch(view, 0, to=None), buyer=world.new_buyer()).order
    assert later.lines[0].amount == 3900
    (entry,) = [e for e in world.store.tables.audit if e.action == "merch_product.updated"]
    assert entry.details["changes"]["variants"][medium] == {"price": [4500, 3900]}


def test_variants_are_added_and_products_taken_off_sale(world: World) -> None:
    view = hoodie(world)
    grown = patch(
        world,
        view,
        ProductPatch(add_variants=(VariantDraft(sku="HOOD-XL", size="XL", price=4900, stock=2),)),
    )
    assert [v.sku for v in grown.product.variants] == ["HOOD-M", "HOOD-L", "HOOD-XL"]
    xl = grown.product.variants[2]
    assert (grown.level(xl.id).capacity, grown.level(xl.id).left) == (2, 2)
    with pytest.raises(InvalidRequest) as refused:
        patch(world, view, ProductPatch(add_variants=(VariantDraft(sku="hood-m", price=1),)))
    assert refused.value.details["field"] == "add_variants[0].sku"
    with pytest.raises(InvalidRequest) as refused:
        patch(world, view, ProductPatch(variants=(VariantPatch("nope", price=1),)))
    assert refused.value.details["field"] == "variants[0].id"
    with pytest.raises(InvalidRequest) as refused:
        patch(world, view, ProductPatch(flat_rate=None, pickup=False))
    assert refused.value.details["field"] == "shipping"

    off = patch(world, view, ProductPatch(variants=(VariantPatch(xl.id, active=False),)))
    assert not off.product.variants[2].active
    with pytest.raises(Conflict) as unavailable:
        world.place_order(merch(grown, 2, to=None))
    assert unavailable.value.code == "product_unavailable"
    assert [v.sku for v in products(world)["Hoodie"].product.variants] == ["HOOD-M", "HOOD-L"]
    patch(world, view, ProductPatch(active=False))
    assert "Hoodie" not in products(world)
    with pytest.raises(Conflict):
        world.place_order(merch(view, 0, to=None))


def test_an_edit_that_changes_nothing_is_not_audited(world: World) -> None:
    view = hoodie(world)
    patch(world, view, ProductPatch(name="Hoodie", description=KEEP))
    assert not [e for e in world.store.tables.audit if e.action == "merch_product.updated"]
    with pytest.raises(NotFound):
        patch(world, view, ProductPatch(name="Mine"), caller=RIVAL)


def test_merchandise_is_not_sold_once_the_event_is_over(world: World) -> None:
    view = hoodie(world)
    world.clock.advance(days=400)
    with pytest.raises(Conflict) as refused:
        world.place_order(merch(view, 0, to=None), buyer=world.new_buyer())
    assert refused.value.code == "sales_closed"
