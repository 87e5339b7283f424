"""The merchandise port: an event's products and their variants, and the deliveries of the
orders that bought them.

A variant's stock is not here: it is the places port's stock item `variant:<variant_id>`
(`domain.places`), counted by the same conditional update as every other place. What an order
paid for a variant is its order line; what is stored here is what the organizer needs to hand
it over: which variant, how many, picked up or shipped where.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventpay.domain.merchandise import Address, DeliveryMethod


def variant_stock_id(variant_id: str) -> str:
    """The stock item of a variant's places."""
    return f"variant:{variant_id}"


@dataclass(frozen=True, slots=True)
class VariantRecord:
    id: str
    product_id: str
    sku: str
    size: str | None
    colour: str | None
    price: int  # minor units of the event's currency
    active: bool
    position: int


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: str
    event_id: str
    name: str
    description: str | None
    shipping_flat_rate: int | None  # minor units; None: not shipped
    pickup: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    variants: tuple[VariantRecord, ...] = ()

    def variant(self, variant_id: str) -> VariantRecord | None:
        return next((v for v in self.variants if v.id == variant_id), None)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One merchandise item of an order: what to hand over, and how."""

    id: str
    order_id: str
    event_id: str
    product_id: str
    variant_id: str
    quantity: int
    method: DeliveryMethod
    address: Address | None  # shipped: where to
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FulfilmentRow:
    """A delivery of a paid order, with its product and variant as they are now."""

    delivery: DeliveryRecord
    product_name: str
    sku: str
    size: str | None
    colour: str | None


class MerchandiseRepository(Protocol):
    def add_product(self, product: ProductRecord) -> None:
        """Store the product with its variants."""
        ...

    def get_product(self, product_id: str, *, for_update: bool = False) -> ProductRecord | None:
        """The product with its variants (in their `position` order); `for_update` locks its
        row until the transaction ends, so two edits of one product queue."""
        ...

    def list_for_event(self, event_id: str) -> Sequence[ProductRecord]:
        """The event's products, inactive ones too, oldest first."""
        ...

    def update_product(self, product: ProductRecord) -> None:
        """Store the product's fields and its variants: changed ones updated, new ones added
        (a variant is never removed, only deactivated)."""
        ...

    def add_delivery(self, delivery: DeliveryRecord) -> None: ...

    def for_order(self, order_id: str) -> Sequence[DeliveryRecord]: ...

    def fulfilment(self, event_id: str) -> Sequence[FulfilmentRow]:
        """The event's deliveries whose places are confirmed (the order is paid and its
        merchandise not given back), oldest first."""
        ...
