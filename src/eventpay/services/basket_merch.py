"""The pricer of merchandise (`basket`): a variant of an event's product, picked up at the event
or shipped, priced from the product as stored.

- An item is one `merchandise` line (the variant's price times `quantity`) and takes `quantity`
  places of the variant's stock (`variant:<variant_id>`, no holder: a buyer may buy several).
- Shipping is charged once per event and address: of the items of one event shipped to the
  same address, the first in the order carries one `shipping` line at the highest flat rate of
  their products; pick-up is free. One order ships to one address: a second, different address
  is refused (422 `one_shipping_address`), naming the later item.
- `persist` stores the item's delivery (variant, quantity, pick-up or the normalized address)
  for the organizer's fulfilment list.

Merchandise is sold while its product and variant are active and until the event is over
(`domain.merchandise.on_sale`). What must not live here: setting products up (`merchandise`),
counting stock (`settlement.places`), the address rules (`domain.merchandise`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventpay.domain import Event, Money
from eventpay.domain.merchandise import (
    Address,
    DeliveryMethod,
    InvalidAddress,
    InvalidProduct,
    merchandise_line,
    on_sale,
    parse_address,
    shipping_line,
    shipping_rate,
    variant_label,
)
from eventpay.domain.places import PlaceClaim
from eventpay.domain.pricing import QuoteLine
from eventpay.ports import UnitOfWork
from eventpay.ports.merchandise import (
    DeliveryRecord,
    ProductRecord,
    VariantRecord,
    variant_stock_id,
)
from eventpay.services.basket import Claim, PricedItem, PricingContext, event_for
from eventpay.services.errors import Conflict, InvalidRequest


@dataclass(frozen=True, slots=True)
class AddressInput:
    """A shipping address as the buyer wrote it (validated by `domain.merchandise`)."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None

    def parse(self) -> Address:
        return parse_address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
        )


@dataclass(frozen=True, slots=True)
class MerchandiseItem:
    """`quantity` of a product's variant, picked up (`address` None) or shipped to `address`."""

    product_id: str
    variant_id: str
    quantity: int
    method: str
    address: AddressInput | None = None


def price_merchandise(ctx: PricingContext, item: MerchandiseItem) -> PricedItem:
    product, variant = _product_and_variant(ctx, item)
    event = event_for(ctx, product.event_id)
    if not (product.active and variant.active):
        raise Conflict(
            "product_unavailable",
            f"{product.name} is no longer sold.",
            {"item": ctx.index, "product_id": product.id, "variant_id": variant.id},
        )
    if not on_sale(starts_at=event.starts_at, ends_at=event.ends_at, now=ctx.now):
        raise Conflict(
            "sales_closed",
            f"{event.name} is over: its merchandise is no longer sold.",
            {"item": ctx.index, "event_id": event.id},
        )
    method, address = _delivery(ctx, product, item)
    label = variant_label(size=variant.size, colour=variant.colour, sku=variant.sku)
    try:
        line = merchandise_line(
            event_id=event.id,
            product=product.name,
            variant=label,
            unit_price=Money(variant.price, event.currency),
            quantity=item.quantity,
        )
    except InvalidProduct as exc:
        raise InvalidRequest(
            "invalid_quantity", str(exc), {"item": ctx.index, "field": exc.field}
        ) from None
    lines: tuple[QuoteLine, ...] = (line,)
    if address is not None:
        lines += _shipping(ctx, event, product, address)
    delivery = DeliveryRecord(
        id=str(uuid.uuid4()),
        order_id="",
        event_id=event.id,
        product_id=product.id,
        variant_id=variant.id,
        quantity=item.quantity,
        method=method,
        address=address,
        created_at=ctx.now,
    )

    def persist(uow: UnitOfWork, order_id: str, _registrations: Sequence[str]) -> None:
        uow.merchandise.add_delivery(
            DeliveryRecord(
                id=delivery.id,
                order_id=order_id,
                event_id=delivery.event_id,
                product_id=delivery.product_id,
                variant_id=delivery.variant_id,
                quantity=delivery.quantity,
                method=delivery.method,
                address=delivery.address,
                created_at=delivery.created_at,
            )
        )

    claim = Claim(
        PlaceClaim(variant_stock_id(variant.id), item.quantity, holder=None),
        label=f"{product.name} ({label})",
    )
    audit: dict[str, Any] = {
        "product_id": product.id,
        "variant_id": variant.id,
        "quantity": item.quantity,
        "delivery": method.value,
    }
    return PricedItem(event=event, lines=lines, claims=(claim,), persist=persist, audit=audit)


def _product_and_variant(
    ctx: PricingContext, item: MerchandiseItem
) -> tuple[ProductRecord, VariantRecord]:
    product = ctx.uow.merchandise.get_product(item.product_id)
    if product is None:
        raise InvalidRequest(
            "unknown_product",
            "No such product.",
            {"item": ctx.index, "field": "product_id", "product_id": item.product_id},
        )
    variant = product.variant(item.variant_id)
    if variant is None:
        raise InvalidRequest(
            "unknown_variant",
            f"{product.name} has no such variant.",
            {"item": ctx.index, "field": "variant_id", "variant_id": item.variant_id},
        )
    return product, variant


def _delivery(
    ctx: PricingContext, product: ProductRecord, item: MerchandiseItem
) -> tuple[DeliveryMethod, Address | None]:
    try:
        method = DeliveryMethod(item.method)
    except ValueError:
        raise InvalidRequest(
            "invalid_delivery",
            "delivery.method must be pickup or ship.",
            {"item": ctx.index, "field": "delivery.method"},
        ) from None
    pickup = method is DeliveryMethod.PICKUP
    if not (product.pickup if pickup else _ships(product)):
        raise InvalidRequest(
            "delivery_not_offered",
            f"{product.name} cannot be {'picked up' if pickup else 'shipped'}.",
            {"item": ctx.index, "field": "delivery.method", "method": method.value},
        )
    if pickup:
        if item.address is not None:
            raise InvalidRequest(
                "invalid_delivery",
                "A pick-up takes no address.",
                {"item": ctx.index, "field": "delivery.address"},
            )
        return method, None
    if item.address is None:
        raise InvalidRequest(
            "invalid_address",
            "delivery.address is required to ship.",
            {"item": ctx.index, "field": "delivery.address"},
        )
    try:
        return method, item.address.parse()
    except InvalidAddress as exc:
        raise InvalidRequest(
            exc.code,
            f"delivery.address.{exc.field} {exc.message}.",
            {"item": ctx.index, "field": f"delivery.address.{exc.field}"},
        ) from None


def _ships(product: ProductRecord) -> bool:
    return product.shipping_flat_rate is not None


def _shipping(
    ctx: PricingContext, event: Event, product: ProductRecord, address: Address
) -> tuple[QuoteLine, ...]:
    """The item's shipping line: only on the first item of its event shipped to this address,
    at the highest flat rate of those items' products; none when that is free."""
    shipped = _shipped_items(ctx) or [(ctx.index, product, address)]
    for index, _, to in shipped:
        if to.key != address.key:
            first, later = sorted((index, ctx.index))
            raise InvalidRequest(
                "one_shipping_address",
                "All items of one order ship to one address.",
                {"item": later, "first_item": first, "field": "delivery.address"},
            )
    together = [(index, one) for index, one, _ in shipped if one.event_id == event.id]
    if min(index for index, _ in together) != ctx.index:
        return ()
    rate = shipping_rate(
        [Money(one.shipping_flat_rate or 0, event.currency) for _, one in together]
    )
    if rate.is_zero():
        return ()
    return (shipping_line(event_id=event.id, event_name=event.name, to=address, rate=rate),)


def _shipped_items(ctx: PricingContext) -> list[tuple[int, ProductRecord, Address]]:
    """The order's items shipped somewhere, with their product and address; items that will
    be refused on their own (unknown product, no shipping, a bad address) are left out."""
    found: list[tuple[int, ProductRecord, Address]] = []
    products: dict[str, ProductRecord | None] = {}
    for index, other in enumerate(ctx.basket):
        if not isinstance(other, MerchandiseItem) or other.method != DeliveryMethod.SHIP:
            continue
        if other.address is None:
            continue
        if other.product_id not in products:
            products[other.product_id] = ctx.uow.merchandise.get_product(other.product_id)
        one = products[other.product_id]
        if one is None or not _ships(one):
            continue
        try:
            found.append((index, one, other.address.parse()))
        except InvalidAddress:
            continue
    return found
