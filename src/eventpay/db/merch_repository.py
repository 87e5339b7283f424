"""Merchandise in SQL: products with their variants, and orders' deliveries (`db.merch_models`).

The fulfilment list reads a delivery as to be handed over while its order holds a confirmed
place of the variant (`places`): confirmed at payment, released by a refund, so the list never
shows an unpaid or refunded item without a second notion of "paid".
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from eventpay.db.merch_models import MerchDeliveryRow, MerchProductRow, MerchVariantRow
from eventpay.db.stock_models import PlaceRow
from eventpay.domain.merchandise import Address, DeliveryMethod
from eventpay.domain.places import PlaceStatus
from eventpay.ports.merchandise import (
    DeliveryRecord,
    FulfilmentRow,
    ProductRecord,
    VariantRecord,
    variant_stock_id,
)


def _variant(row: MerchVariantRow) -> VariantRecord:
    return VariantRecord(
        id=row.id,
        product_id=row.product_id,
        sku=row.sku,
        size=row.size,
        colour=row.colour,
        price=row.price,
        active=row.active,
        position=row.position,
    )


def _product(row: MerchProductRow, variants: Sequence[MerchVariantRow]) -> ProductRecord:
    return ProductRecord(
        id=row.id,
        event_id=row.event_id,
        name=row.name,
        description=row.description,
        shipping_flat_rate=row.shipping_flat_rate,
        pickup=row.pickup,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        variants=tuple(_variant(v) for v in sorted(variants, key=lambda v: v.position)),
    )


def _delivery(row: MerchDeliveryRow) -> DeliveryRecord:
    address = None
    if row.method == DeliveryMethod.SHIP:
        assert row.name is not None
        assert row.line1 is not None
        assert row.city is not None
        assert row.postal_code is not None
        assert row.country is not None
        address = Address(
            name=row.name,
            line1=row.line1,
            line2=row.line2,
            city=row.city,
            region=row.region,
            postal_code=row.postal_code,
            country=row.country,
        )
    return DeliveryRecord(
        id=row.id,
        order_id=row.order_id,
        event_id=row.event_id,
        product_id=row.product_id,
        variant_id=row.variant_id,
        quantity=row.quantity,
        method=DeliveryMethod(row.method),
        address=address,
        created_at=row.created_at,
    )


def _variant_row(variant: VariantRecord) -> MerchVariantRow:
    return MerchVariantRow(
        id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        sku_key=variant.sku.casefold(),
        size=variant.size,
        colour=variant.colour,
        price=variant.price,
        active=variant.active,
        position=variant.position,
    )


class SqlMerchandiseRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add_product(self, product: ProductRecord) -> None:
        self._s.add(
            MerchProductRow(
                id=product.id,
                event_id=product.event_id,
                name=product.name,
                description=product.description,
                shipping_flat_rate=product.shipping_flat_rate,
                pickup=product.pickup,
                active=product.active,
                created_at=product.created_at,
                updated_at=product.updated_at,
            )
        )
        self._s.flush()
        self._s.add_all([_variant_row(v) for v in product.variants])
        self._s.flush()

    def _variants(self, product_ids: Sequence[str]) -> dict[str, list[MerchVariantRow]]:
        by_product: dict[str, list[MerchVariantRow]] = {pid: [] for pid in product_ids}
        if product_ids:
            stmt = select(MerchVariantRow).where(MerchVariantRow.product_id.in_(product_ids))
            for row in self._s.scalars(stmt):
                by_product[row.product_id].append(row)
        return by_product

    def get_product(self, product_id: str, *, for_update: bool = False) -> ProductRecord | None:
        stmt = select(MerchProductRow).where(MerchProductRow.id == product_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalars(stmt).one_or_none()
        if row is None:
            return None
        return _product(row, self._variants([row.id])[row.id])

    def list_for_event(self, event_id: str) -> Sequence[ProductRecord]:
        stmt = (
            select(MerchProductRow)
            .where(MerchProductRow.event_id == event_id)
            .order_by(MerchProductRow.created_at, MerchProductRow.id)
        )
        rows = list(self._s.scalars(stmt))
        variants = self._variants([row.id for row in rows])
        return [_product(row, variants[row.id]) for row in rows]

    def update_product(self, product: ProductRecord) -> None:
        row = self._s.get(MerchProductRow, product.id)
        if row is None:  # pragma: no cover - the service loaded it in this transaction
            raise LookupError(f"product {product.id} is missing")
        row.name = product.name
        row.description = product.description
        row.shipping_flat_rate = product.shipping_flat_rate
        row.pickup = product.pickup
        row.active = product.active
        row.updated_at = product.updated_at
        stored = {v.id: v for v in self._variants([product.id])[product.id]}
        for variant in product.variants:
            current = stored.get(variant.id)
            if current is None:
                self._s.add(_variant_row(variant))
                continue
            current.price = variant.price
            current.active = variant.active
            current.size = variant.size
            current.colour = variant.colour
        self._s.flush()

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        address = delivery.address
        self._s.add(
            MerchDeliveryRow(
                id=delivery.id,
                order_id=delivery.order_id,
                event_id=delivery.event_id,
                product_id=delivery.product_id,
                variant_id=delivery.variant_id,
                quantity=delivery.quantity,
                method=delivery.method.value,
                name=None if address is None else address.name,
                line1=None if address is None else address.line1,
                line2=None if address is None else address.line2,
                city=None if address is None else address.city,
                region=None if address is None else address.region,
                postal_code=None if address is None else address.postal_code,
                country=None if address is None else address.country,
                created_at=delivery.created_at,
            )
        )
        self._s.flush()

    def for_order(self, order_id: str) -> Sequence[DeliveryRecord]:
        stmt = (
            select(MerchDeliveryRow)
            .where(MerchDeliveryRow.order_id == order_id)
            .order_by(MerchDeliveryRow.created_at, MerchDeliveryRow.id)
        )
        return [_delivery(row) for row in self._s.scalars(stmt)]

    def fulfilment(self, event_id: str) -> Sequence[FulfilmentRow]:
        d, v, p = MerchDeliveryRow, MerchVariantRow, MerchProductRow
        confirmed = exists().where(
            PlaceRow.order_id == d.order_id,
            PlaceRow.stock_id == variant_stock_id("") + d.variant_id,
            PlaceRow.status == PlaceStatus.CONFIRMED.value,
        )
        stmt = (
            select(d, p.name, v.sku, v.size, v.colour)
            .join(v, v.id == d.variant_id)
            .join(p, p.id == d.product_id)
            .where(d.event_id == event_id, confirmed)
            .order_by(d.created_at, d.order_id, d.id)
        )
        return [
            FulfilmentRow(
                delivery=_delivery(row), product_name=name, sku=sku, size=size, colour=colour
            )
            for row, name, sku, size, colour in self._s.execute(stmt).all()
        ]
