"""An event's merchandise: set up by its organizer or an admin (create, edit), listed publicly
for buyers with prices and stock left, and the organizer's fulfilment list.

Only the shape of a body is checked here (types, lengths, unknown fields: 422
`validation_error`); the rules (SKUs, prices within the cap and in the event's currency,
stock, shipping or pick-up) are the domain's, answered as 422 `invalid_product` naming the
field in `error.details.field`. A price is an integer of the event's minor unit or a money
object in the event's currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictBool, StrictInt

from eventpay.domain import Money
from eventpay.domain.merchandise import VariantDraft
from eventpay.ports.merchandise import FulfilmentRow
from eventpay.services import merchandise
from eventpay.services.merchandise import (
    KEEP,
    ProductInput,
    ProductPatch,
    ProductView,
    VariantPatch,
)
from eventpay.web.catalog_schemas import PriceIn, PriceValue
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import (
    PUBLIC_BUDGET,
    RATE_LIMITED_RESPONSE,
    READ_BUDGET,
    WRITE_BUDGET,
)
from eventpay.web.schemas import MoneyOut, Strict

router = APIRouter(tags=["merchandise"], responses=RATE_LIMITED_RESPONSE)


def _price(value: int | PriceIn) -> tuple[int, str | None]:
    if isinstance(value, PriceIn):
        return value.amount, value.currency
    return value, None


class VariantIn(Strict):
    sku: str = Field(min_length=1, max_length=100, description="Unique within the product.")
    size: str | None = Field(default=None, max_length=100)
    colour: str | None = Field(default=None, max_length=100)
    price: PriceValue
    stock: StrictInt | None = Field(default=None, description="Units to sell; null: no limit.")

    def to_draft(self) -> VariantDraft:
        amount, currency = _price(self.price)
        return VariantDraft(
            sku=self.sku,
            size=self.size,
            colour=self.colour,
            price=amount,
            currency=currency,
            stock=self.stock,
        )


class ShippingIn(Strict):
    flat_rate: PriceValue = Field(
        description="Charged once per order, event and address, whatever the quantity."
    )


class ProductIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    variants: list[VariantIn] = Field(min_length=1, max_length=100)
    shipping: ShippingIn | None = Field(default=None, description="Null: not shipped.")
    pickup: StrictBool = Field(default=False, description="May be picked up at the event.")

    def to_input(self) -> ProductInput:
        rate, currency = (None, None) if self.shipping is None else _price(self.shipping.flat_rate)
        return ProductInput(
            name=self.name,
            description=self.description,
            variants=tuple(v.to_draft() for v in self.variants),
            flat_rate=rate,
            flat_rate_currency=currency,
            pickup=self.pickup,
        )


class VariantPatchIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    price: PriceValue | None = None
    stock: StrictInt | None = Field(
        default=None,
        description="Units to sell (null: no limit); below the units already taken is 409 "
        "`stock_below_taken`. Omitted: unchanged.",
    )
    active: StrictBool | None = Field(default=None, description="False: no longer sold.")

    def to_patch(self) -> VariantPatch:
        amount, currency = (None, None) if self.price is None else _price(self.price)
        return VariantPatch(
            id=self.id,
            price=amount,
            price_currency=currency,
            stock=self.stock if "stock" in self.model_fields_set else KEEP,
            active=self.active,
        )


class ProductPatchIn(Strict):
    """Only the fields given change; `shipping: null` stops shipping, `active: false` takes
    the product off sale (orders already placed keep it)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    shipping: ShippingIn | None = None
    pickup: StrictBool | None = None
    active: StrictBool | None = None
    variants: list[VariantPatchIn] = Field(default_factory=list, max_length=100)
    add_variants: list[VariantIn] = Field(default_factory=list, max_length=100)

    def to_patch(self) -> ProductPatch:
        given = self.model_fields_set
        rate: int | None = None
        currency: str | None = None
        if self.shipping is not None:
            rate, currency = _price(self.shipping.flat_rate)
        return ProductPatch(
            name=self.name,
            description=self.description if "description" in given else KEEP,
            flat_rate=rate if "shipping" in given else KEEP,
            flat_rate_currency=currency,
            pickup=self.pickup,
            active=self.active,
            variants=tuple(v.to_patch() for v in self.variants),
            add_variants=tuple(v.to_draft() for v in self.add_variants),
        )


class VariantOut(BaseModel):
    id: str
    sku: str
    size: str | None
    colour: str | None
    price: MoneyOut
    stock: int | None = Field(description="Units sold in all; null: no limit.")
    stock_left: int | None = Field(description="Units still to sell; null: no limit.")
    active: bool


class ShippingOut(BaseModel):
    flat_rate: MoneyOut


class ProductOut(BaseModel):
    id: str
    event_id: str
    name: str
    description: str | None
    shipping: ShippingOut | None
    pickup: bool
    active: bool
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime


class ProductListOut(BaseModel):
    event_id: str
    products: list[ProductOut]


class AddressOut(BaseModel):
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str


class DeliveryOut(BaseModel):
    method: Literal["pickup", "ship"]
    address: AddressOut | None


class FulfilmentItemOut(BaseModel):
    order_id: str
    product_id: str
    product_name: str
    variant_id: str
    sku: str
    size: str | None
    colour: str | None
    quantity: int
    delivery: DeliveryOut


class FulfilmentOut(BaseModel):
    event_id: str
    items: list[FulfilmentItemOut]


def _out(view: ProductView) -> ProductOut:
    product, currency = view.product, view.currency
    variants = []
    for v in product.variants:
        level = view.level(v.id)
        variants.append(
            VariantOut(
                id=v.id,
                sku=v.sku,
                size=v.size,
                colour=v.colour,
                price=MoneyOut.of(Money(v.price, currency)),
                stock=None if level is None else level.capacity,
                stock_left=None if level is None else level.left,
                active=v.active,
            )
        )
    rate = product.shipping_flat_rate
    shipping = None if rate is None else ShippingOut(flat_rate=MoneyOut.of(Money(rate, currency)))
    return ProductOut(
        id=product.id,
        event_id=product.event_id,
        name=product.name,
        description=product.description,
        shipping=shipping,
        pickup=product.pickup,
        active=product.active,
        variants=variants,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _fulfilment_out(row: FulfilmentRow) -> FulfilmentItemOut:
    d = row.delivery
    address = None
    if d.address is not None:
        a = d.address
        address = AddressOut(
            name=a.name,
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            region=a.region,
            postal_code=a.postal_code,
            country=a.country,
        )
    return FulfilmentItemOut(
        order_id=d.order_id,
        product_id=d.product_id,
        product_name=row.product_name,
        variant_id=d.variant_id,
        sku=row.sku,
        size=row.size,
        colour=row.colour,
        quantity=d.quantity,
        delivery=DeliveryOut(method=d.method.value, address=address),
    )


@router.post(
    "/v1/events/{event_id}/products",
    status_code=201,
    response_model=ProductOut,
    dependencies=[WRITE_BUDGET],
)
async def create_product(
    event_id: str, body: ProductIn, container: ContainerDep, caller: CallerDep
) -> ProductOut:
    """Create a product of the event (its organizer or an admin; anyone else 404
    `event_not_found`), with its variants' prices and stock. 422 `invalid_product` naming the
    field in `details.field`."""
    asked = body.to_input()
    created = await run_in_threadpool(
        lambda: merchandise.create_product(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            asked=asked,
            now=container.clock(),
        )
    )
    return _out(created)


@router.patch(
    "/v1/events/{event_id}/products/{product_id}",
    response_model=ProductOut,
    dependencies=[WRITE_BUDGET],
)
async def update_product(
    event_id: str,
    product_id: str,
    body: ProductPatchIn,
    container: ContainerDep,
    caller: CallerDep,
) -> ProductOut:
    """Change prices and stock, add variants, take variants or the product off sale. Stock
    below the units already taken (reserved or paid) is 409 `stock_below_taken`; nothing of
    the edit is stored then. Orders already placed keep their prices."""
    patch = body.to_patch()
    updated = await run_in_threadpool(
        lambda: merchandise.update_product(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            product_id=product_id,
            patch=patch,
            now=container.clock(),
        )
    )
    return _out(updated)


@router.get(
    "/v1/events/{event_id}/products",
    response_model=ProductListOut,
    dependencies=[PUBLIC_BUDGET],
)
def list_products(event_id: str, container: ContainerDep) -> ProductListOut:
    """What the event sells (public): active products and variants, each variant with its
    price and the units left (`stock_left`; null: no limit)."""
    listed = merchandise.list_products(uow_factory=container.uow_factory, event_id=event_id)
    return ProductListOut(event_id=listed.event_id, products=[_out(v) for v in listed.products])


@router.get(
    "/v1/events/{event_id}/fulfilment",
    response_model=FulfilmentOut,
    dependencies=[READ_BUDGET],
)
def get_fulfilment(event_id: str, container: ContainerDep, caller: CallerDep) -> FulfilmentOut:
    """The merchandise of the event's paid orders (refunded items left out), each with its
    variant, quantity and delivery (pick-up, or the address to ship to); for the event's
    organizer or an admin."""
    found = merchandise.fulfilment(
        uow_factory=container.uow_factory, caller=caller, event_id=event_id
    )
    return FulfilmentOut(event_id=found.event_id, items=[_fulfilment_out(r) for r in found.rows])
