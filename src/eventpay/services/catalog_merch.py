"""An event's merchandise as a catalog file describes it (`catalog_import`): products matched
by name, their variants by SKU, created or edited through `merchandise` in the import's unit of
work.

A listed product that exists is edited only where the file differs: its description, shipping
flat rate, pick-up, each listed variant's price and stock, and the variants the file adds. A
variant's size or colour cannot be edited (409 `product_differs`: list it under a new SKU).
Products and variants the file does not list are left as they are (the API takes them off
sale). A refusal names the file's path, variants by their index in the file.

What must not live here: a rule about a product (`merchandise`, `domain.merchandise`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eventpay.domain import Event
from eventpay.domain.catalog_rules import Change
from eventpay.domain.merchandise import VariantDraft
from eventpay.ports import Principal, UnitOfWork
from eventpay.ports.merchandise import ProductRecord, variant_stock_id
from eventpay.services import merchandise
from eventpay.services.catalog_file import ProductEdit, at, differs, joined, money, renamed
from eventpay.services.errors import ServiceError
from eventpay.services.merchandise import KEEP, ProductInput, ProductPatch, VariantPatch


def put_products(
    uow: UnitOfWork,
    caller: Principal,
    now: datetime,
    *,
    event: Event,
    asked: Sequence[ProductInput],
    path: str,
) -> list[ProductEdit]:
    """Bring the event's products named in the file to what it says, inside `uow`."""
    edits = []
    stored = {p.name: p for p in uow.merchandise.list_for_event(event.id)}
    for index, wanted in enumerate(asked):
        where = f"{path}.merchandise[{index}]"
        name = wanted.name.strip()
        old = stored.get(name)
        with at(where):
            if old is None:
                merchandise.create_product(
                    uow_factory=joined(uow),
                    caller=caller,
                    event_id=event.id,
                    asked=wanted,
                    now=now,
                )
                edits.append(ProductEdit("product", name, event.id, "create"))
                continue
            patch, diff, names = _patch(uow, event, old, wanted)
            if not diff:
                edits.append(ProductEdit("product", name, event.id, "unchanged"))
                continue
            try:
                merchandise.update_product(
                    uow_factory=joined(uow),
                    caller=caller,
                    event_id=event.id,
                    product_id=old.id,
                    patch=patch,
                    now=now,
                )
            except ServiceError as exc:
                raise renamed(exc, names) from None
            edits.append(ProductEdit("product", name, event.id, "update", diff))
    return edits


def _patch(
    uow: UnitOfWork, event: Event, old: ProductRecord, wanted: ProductInput
) -> tuple[ProductPatch, dict[str, Change], dict[str, str]]:
    """The edit that makes `old` what the file says, what it changes, and how the edit's
    variant fields are named in the file (a refusal names the file's)."""
    diff: dict[str, Change] = {}
    names: dict[str, str] = {}
    description = (wanted.description or "").strip() or None
    if description != old.description:
        diff["description"] = (old.description, description)
    rate = None
    if wanted.flat_rate is not None:
        rate = money(wanted.flat_rate, wanted.flat_rate_currency, event)
    if (None if rate is None else rate.amount) != old.shipping_flat_rate:
        diff["shipping"] = (old.shipping_flat_rate, None if rate is None else rate.amount)
    if wanted.pickup != old.pickup:
        diff["pickup"] = (old.pickup, wanted.pickup)
    by_sku = {v.sku: v for v in old.variants}
    levels = uow.places.levels([variant_stock_id(v.id) for v in old.variants])
    changed: list[VariantPatch] = []
    added: list[VariantDraft] = []
    for index, draft in enumerate(wanted.variants):
        variant = by_sku.get(draft.sku)
        if variant is None:
            names[f"add_variants[{len(added)}]"] = f"variants[{index}]"
            added.append(draft)
            diff[f"variants[{index}]"] = (None, draft.sku)
            continue
        looks = {"size": variant.size, "colour": variant.colour}
        asked = {"size": draft.size or None, "colour": draft.colour or None}
        if looks != asked:
            raise differs(
                "variant",
                draft.sku,
                {k: (looks[k], asked[k]) for k in looks if looks[k] != asked[k]},
            )
        price = money(draft.price, draft.currency, event)
        level = levels.get(variant_stock_id(variant.id))
        stock = None if level is None else level.capacity
        new_price = price.amount != variant.price
        new_stock = stock != draft.stock
        if new_price:
            diff[f"variants[{index}].price"] = (variant.price, price.amount)
        if new_stock:
            diff[f"variants[{index}].stock"] = (stock, draft.stock)
        if new_price or new_stock:
            names[f"variants[{len(changed)}]"] = f"variants[{index}]"
            changed.append(
                VariantPatch(
                    id=variant.id,
                    price=draft.price if new_price else None,
                    price_currency=draft.currency if new_price else None,
                    stock=draft.stock if new_stock else KEEP,
                )
            )
    patch = ProductPatch(
        description=description if "description" in diff else KEEP,
        flat_rate=wanted.flat_rate if "shipping" in diff else KEEP,
        flat_rate_currency=wanted.flat_rate_currency,
        pickup=wanted.pickup if "pickup" in diff else None,
        variants=tuple(changed),
        add_variants=tuple(added),
    )
    return patch, diff, names
