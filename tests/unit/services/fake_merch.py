"""In-memory merchandise: the same answers as `db.merch_repository`, on the fake unit of work's
tables (`merch`: one `MerchTables` holding products with their variants, and deliveries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventpay.domain.places import PlaceStatus
from eventpay.ports.merchandise import (
    DeliveryRecord,
    FulfilmentRow,
    ProductRecord,
    variant_stock_id,
)


@dataclass
class MerchTables:
    products: dict[str, ProductRecord] = field(default_factory=dict)
    deliveries: dict[str, DeliveryRecord] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> MerchTables:
        # Every record is a frozen dataclass of immutable values: copying the dicts is enough,
        # and every unit of work copies the whole store.
        return MerchTables(dict(self.products), dict(self.deliveries))


class FakeMerchandiseRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> MerchTables:
        tables: MerchTables = self._uow.tables.merch
        return tables

    def add_product(self, product: ProductRecord) -> None:
        assert product.id not in self._t.products
        assert product.event_id in self._uow.tables.events
        skus = [v.sku.casefold() for v in product.variants]
        assert len(skus) == len(set(skus)), "uq_merch_variants_product_id_sku_key"
        self._t.products[product.id] = product

    def get_product(self, product_id: str, *, for_update: bool = False) -> ProductRecord | None:
        product = self._t.products.get(product_id)
        if product is None:
            return None
        variants = tuple(sorted(product.variants, key=lambda v: v.position))
        return ProductRecord(**{**_fields(product), "variants": variants})

    def list_for_event(self, event_id: str) -> Sequence[ProductRecord]:
        found = [p for p in self._t.products.values() if p.event_id == event_id]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    def update_product(self, product: ProductRecord) -> None:
        stored = self._t.products[product.id]
        kept = {v.id for v in stored.variants}
        assert kept <= {v.id for v in product.variants}, "variants are never removed"
        skus = [v.sku.casefold() for v in product.variants]
        assert len(skus) == len(set(skus)), "uq_merch_variants_product_id_sku_key"
        self._t.products[product.id] = product

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        assert delivery.order_id in self._uow.tables.orders
        assert delivery.product_id in self._t.products
        self._t.deliveries[delivery.id] = delivery

    def for_order(self, order_id: str) -> Sequence[DeliveryRecord]:
        found = [d for d in self._t.deliveries.values() if d.order_id == order_id]
        return sorted(found, key=lambda d: (d.created_at, d.id))

    def fulfilment(self, event_id: str) -> Sequence[FulfilmentRow]:
        places = self._uow.tables.places.values()
        confirmed = {(p.order_id, p.stock_id) for p in places if p.status is PlaceStatus.CONFIRMED}
        rows = []
        deliveries = sorted(
            self._t.deliveries.values(), key=lambda d: (d.created_at, d.order_id, d.id)
        )
        for delivery in deliveries:
            if delivery.event_id != event_id:
                continue
            if (delivery.order_id, variant_stock_id(delivery.variant_id)) not in confirmed:
                continue
            product = self._t.products[delivery.product_id]
            variant = product.variant(delivery.variant_id)
            assert variant is not None
            rows.append(
                FulfilmentRow(
                    delivery=delivery,
                    product_name=product.name,
                    sku=variant.sku,
                    size=variant.size,
                    colour=variant.colour,
                )
            )
        return rows


def _fields(product: ProductRecord) -> dict[str, Any]:
    return {name: getattr(product, name) for name in ProductRecord.__dataclass_fields__}
