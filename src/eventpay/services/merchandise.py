"""An event's merchandise, set up by its organizer or an admin: products with variants, their
prices and stock, how they reach buyers; the public listing; the organizer's fulfilment list.

Another organizer's event, and any event for a competitor, answers exactly as an unknown one
(404 `event_not_found`). The rules are the domain's (`domain.merchandise`), so a refusal names
the field (422 `invalid_product`). A variant's stock is its places' stock item
(`variant:<variant_id>`): lowering it below the places already taken (reserved or paid) is a
409 `stock_below_taken`, and nothing of the edit is stored. A price change never alters an
order already placed (its lines keep their amounts). Every change is audited.

What must not live here: pricing an order's merchandise (`basket_merch`), counting places
(`settlement.places`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from eventpay.domain import Event
from eventpay.domain.merchandise import (
    InvalidProduct,
    MerchandiseError,
    VariantDraft,
    check_description,
    check_name,
    check_new_variants,
    check_offer,
    check_price,
    check_product,
    check_stock,
)
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.merchandise import (
    FulfilmentRow,
    ProductRecord,
    VariantRecord,
    variant_stock_id,
)
from eventpay.ports.places import StockLevel
from eventpay.services.audit import record
from eventpay.services.errors import Conflict, InvalidRequest, NotFound

STOCK_KIND = "variant"


class Keep(Enum):
    """A field an edit leaves as it is (where None means something: no limit, no shipping)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class ProductInput:
    name: str
    variants: tuple[VariantDraft, ...]
    pickup: bool
    flat_rate: int | None = None  # minor units; None: not shipped
    flat_rate_currency: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class VariantPatch:
    id: str
    price: int | None = None
    price_currency: str | None = None
    stock: int | Keep | None = KEEP
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class ProductPatch:
    name: str | None = None
    description: str | Keep | None = KEEP
    flat_rate: int | Keep | None = KEEP  # None: stop shipping
    flat_rate_currency: str | None = None
    pickup: bool | None = None
    active: bool | None = None
    variants: tuple[VariantPatch, ...] = ()
    add_variants: tuple[VariantDraft, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product, its event's currency (the unit of its prices) and each variant's stock."""

    product: ProductRecord
    currency: str
    stock: Mapping[str, StockLevel]  # by variant id

    def level(self, variant_id: str) -> StockLevel | None:
        return self.stock.get(variant_id)


def _event_for(uow: UnitOfWork, caller: Principal, event_id: str) -> Event:
    event = uow.catalog.get_event(event_id)
    mine = (
        event is not None
        and caller.role is Role.ORGANIZER
        and caller.organizer_id == event.organizer_id
    )
    if event is None or not (caller.role is Role.ADMIN or mine):
        raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
    return event


def _invalid(exc: MerchandiseError) -> InvalidRequest:
    return InvalidRequest(exc.code, str(exc), exc.details)


def _view(uow: UnitOfWork, product: ProductRecord, currency: str) -> ProductView:
    levels = uow.places.levels([variant_stock_id(v.id) for v in product.variants])
    stock = {
        v.id: levels[variant_stock_id(v.id)]
        for v in product.variants
        if variant_stock_id(v.id) in levels
    }
    return ProductView(product, currency, stock)


def _new_variant(product_id: str, draft: VariantDraft, position: int) -> VariantRecord:
    return VariantRecord(
        id=str(uuid.uuid4()),
        product_id=product_id,
        sku=draft.sku,
        size=draft.size or None,
        colour=draft.colour or None,
        price=draft.price,
        active=True,
        position=position,
    )


def _ensure_stock(
    uow: UnitOfWork, event: Event, variant_id: str, capacity: int | None, field: str
) -> None:
    stock_id = variant_stock_id(variant_id)
    if not uow.places.ensure_stock(stock_id, event_id=event.id, kind=STOCK_KIND, capacity=capacity):
        level = uow.places.levels([stock_id])[stock_id]
        raise Conflict(
            "stock_below_taken",
            f"{level.taken} of this variant are already taken (reserved or paid).",
            {"field": field, "variant_id": variant_id, "taken": level.taken, "stock": capacity},
        )


def create_product(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    asked: ProductInput,
    now: datetime,
) -> ProductView:
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        try:
            check_product(
                name=asked.name,
                description=asked.description,
                variants=asked.variants,
                flat_rate=asked.flat_rate,
                flat_rate_currency=asked.flat_rate_currency,
                pickup=asked.pickup,
                currency=event.currency,
            )
        except MerchandiseError as exc:
            raise _invalid(exc) from None
        product_id = str(uuid.uuid4())
        variants = tuple(
            _new_variant(product_id, draft, position)
            for position, draft in enumerate(asked.variants)
        )
        product = ProductRecord(
            id=product_id,
            event_id=event.id,
            name=asked.name.strip(),
            description=(asked.description or "").strip() or None,
            shipping_flat_rate=asked.flat_rate,
            pickup=asked.pickup,
            active=True,
            created_at=now,
            updated_at=now,
            variants=variants,
        )
        uow.merchandise.add_product(product)
        for index, (variant, draft) in enumerate(zip(variants, asked.variants, strict=True)):
            _ensure_stock(uow, event, variant.id, draft.stock, f"variants[{index}].stock")
        record(
            uow,
            entity_type="merch_product",
            entity_id=product.id,
            action="merch_product.created",
            actor=caller,
            now=now,
            details={
                **_product_details(product, event.currency),
                "variants": [
                    {**_variant_details(v), "stock": d.stock}
                    for v, d in zip(variants, asked.variants, strict=True)
                ],
            },
        )
        view = _view(uow, product, event.currency)
        uow.commit()
    return view


def update_product(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    product_id: str,
    patch: ProductPatch,
    now: datetime,
) -> ProductView:
    """Apply the edit whole or not at all; audited when it changes anything."""
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        product = uow.merchandise.get_product(product_id, for_update=True)
        if product is None or product.event_id != event.id:
            raise NotFound(
                "product_not_found", "No such product.", {"event_id": event.id, "id": product_id}
            )
        try:
            updated, stock_changes = _patched(product, patch, event.currency, now=now)
        except MerchandiseError as exc:
            raise _invalid(exc) from None
        before = _view(uow, product, event.currency)
        for variant_id, (field, capacity) in stock_changes.items():
            _ensure_stock(uow, event, variant_id, capacity, field)
        changes = _changes(product, updated, before, stock_changes, event.currency)
        if changes:
            uow.merchandise.update_product(updated)
            record(
                uow,
                entity_type="merch_product",
                entity_id=product.id,
                action="merch_product.updated",
                actor=caller,
                now=now,
                details={"event_id": event.id, "changes": changes},
            )
        view = _view(uow, updated if changes else product, event.currency)
        uow.commit()
    return view


def _patched(
    product: ProductRecord, patch: ProductPatch, currency: str, *, now: datetime
) -> tuple[ProductRecord, dict[str, tuple[str, int | None]]]:
    """The product as the patch leaves it, and the stock to set per variant (with the field
    that asked for it); raises `MerchandiseError` naming the field refused."""
    name = product.name
    if patch.name is not None:
        check_name(patch.name)
        name = patch.name.strip()
    description = product.description
    if not isinstance(patch.description, Keep):
        check_description(patch.description)
        description = (patch.description or "").strip() or None
    flat_rate = product.shipping_flat_rate
    if not isinstance(patch.flat_rate, Keep):
        flat_rate = patch.flat_rate
    pickup = product.pickup if patch.pickup is None else patch.pickup
    check_offer(
        flat_rate,
        pickup,
        currency,
        given=None if isinstance(patch.flat_rate, Keep) else patch.flat_rate_currency,
    )
    variants = {v.id: v for v in product.variants}
    stock: dict[str, tuple[str, int | None]] = {}
    seen: set[str] = set()
    for index, change in enumerate(patch.variants):
        at = f"variants[{index}]"
        current = variants.get(change.id)
        if current is None:
            raise _unknown_variant(f"{at}.id")
        if change.id in seen:
            raise _unknown_variant(f"{at}.id", twice=True)
        seen.add(change.id)
        if change.price is not None:
            check_price(change.price, currency, f"{at}.price", given=change.price_currency)
            current = replace(current, price=change.price)
        if change.active is not None:
            current = replace(current, active=change.active)
        if not isinstance(change.stock, Keep):
            check_stock(change.stock, f"{at}.stock")
            stock[change.id] = (f"{at}.stock", change.stock)
        variants[change.id] = current
    check_new_variants(
        patch.add_variants,
        currency,
        existing_skus=[v.sku for v in product.variants],
        field="add_variants",
    )
    added = [
        _new_variant(product.id, draft, len(variants) + index)
        for index, draft in enumerate(patch.add_variants)
    ]
    for index, (variant, draft) in enumerate(zip(added, patch.add_variants, strict=True)):
        variants[variant.id] = variant
        stock[variant.id] = (f"add_variants[{index}].stock", draft.stock)
    updated = replace(
        product,
        name=name,
        description=description,
        shipping_flat_rate=flat_rate,
        pickup=pickup,
        active=product.active if patch.active is None else patch.active,
        updated_at=now,
        variants=tuple(sorted(variants.values(), key=lambda v: v.position)),
    )
    return updated, stock


def _unknown_variant(field: str, *, twice: bool = False) -> MerchandiseError:
    return InvalidProduct(field, "is given twice" if twice else "is not a variant of this product")


def _changes(
    old: ProductRecord,
    new: ProductRecord,
    before: ProductView,
    stock: Mapping[str, tuple[str, int | None]],
    currency: str,
) -> dict[str, Any]:
    """What the edit changed, field by field, as [before, after]; empty: nothing."""
    changes: dict[str, Any] = {}
    for name in ("name", "description", "shipping_flat_rate", "pickup", "active"):
        if getattr(old, name) != getattr(new, name):
            changes[name] = [getattr(old, name), getattr(new, name)]
    olds = {v.id: v for v in old.variants}
    variants: dict[str, Any] = {}
    added = []
    for variant in new.variants:
        was = olds.get(variant.id)
        if was is None:
            added.append({**_variant_details(variant), "stock": stock[variant.id][1]})
            continue
        fields = {
            name: [getattr(was, name), getattr(variant, name)]
            for name in ("price", "active")
            if getattr(was, name) != getattr(variant, name)
        }
        if variant.id in stock:
            level = before.level(variant.id)
            capacity = None if level is None else level.capacity
            if capacity != stock[variant.id][1]:
                fields["stock"] = [capacity, stock[variant.id][1]]
        if fields:
            variants[variant.id] = fields
    if variants:
        changes["variants"] = variants
    if added:
        changes["added_variants"] = added
    if changes:
        changes["currency"] = currency
    return changes


def _product_details(product: ProductRecord, currency: str) -> dict[str, Any]:
    return {
        "event_id": product.event_id,
        "name": product.name,
        "currency": currency,
        "shipping_flat_rate": product.shipping_flat_rate,
        "pickup": product.pickup,
    }


def _variant_details(variant: VariantRecord) -> dict[str, Any]:
    return {
        "id": variant.id,
        "sku": variant.sku,
        "size": variant.size,
        "colour": variant.colour,
        "price": variant.price,
    }


@dataclass(frozen=True, slots=True)
class EventProducts:
    event_id: str
    currency: str
    products: tuple[ProductView, ...]


def list_products(*, uow_factory: UnitOfWorkFactory, event_id: str) -> EventProducts:
    """What an event sells now (public): its active products with their active variants, each
    with its price and the stock left."""
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
        if event is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        views = []
        for product in uow.merchandise.list_for_event(event.id):
            if not product.active:
                continue
            selling = replace(product, variants=tuple(v for v in product.variants if v.active))
            if selling.variants:
                views.append(_view(uow, selling, event.currency))
    return EventProducts(event.id, event.currency, tuple(views))


@dataclass(frozen=True, slots=True)
class Fulfilment:
    event_id: str
    rows: Sequence[FulfilmentRow]


def fulfilment(*, uow_factory: UnitOfWorkFactory, caller: Principal, event_id: str) -> Fulfilment:
    """The merchandise of the event's paid orders to hand over or ship (not refunded)."""
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        rows = uow.merchandise.fulfilment(event.id)
    return Fulfilment(event.id, tuple(rows))
