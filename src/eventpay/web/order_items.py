"""The items a buyer may put in `POST /v1/orders`, one model per `kind`.

Each model checks the shape of its item (unknown fields refused, sizes bounded) and turns it
into the services' item (`to_item`), which `orders.PRICERS` prices from the catalog. A buyer
never sends a price: no model here has an amount field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from eventpay.services.basket import RegistrationItem
from eventpay.services.basket_merch import AddressInput, MerchandiseItem
from eventpay.services.basket_passes import PassItem, VipUpgradeItem
from eventpay.services.basket_teams import SeriesItem, TeamItem


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationItemIn(_Item):
    """The buyer enters classes of an event themself."""

    kind: Literal["registration"]
    event_id: str = Field(min_length=1, max_length=64)
    class_ids: list[str] = Field(min_length=1, max_length=20)

    def to_item(self) -> object:
        return RegistrationItem(event_id=self.event_id, class_ids=tuple(self.class_ids))


class TeamItemIn(_Item):
    """The buyer enters a team as its captain (added to `members` when absent)."""

    kind: Literal["team"]
    event_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200, description="1 to 80 characters.")
    members: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        max_length=50, description="Competitor ids; the captain (the buyer) is always one."
    )

    def to_item(self) -> object:
        return TeamItem(event_id=self.event_id, name=self.name, members=tuple(self.members))


class SeriesItemIn(_Item):
    """The buyer takes a series package for the classes of `class_codes` at every event."""

    kind: Literal["series"]
    series_id: str = Field(min_length=1, max_length=64)
    class_codes: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=20
    )

    def to_item(self) -> object:
        return SeriesItem(series_id=self.series_id, class_codes=tuple(self.class_codes))


class PassItemIn(_Item):
    """Spectator passes of one pass type (`GET /v1/events/{event_id}/passes`)."""

    kind: Literal["pass"]
    event_id: str = Field(min_length=1, max_length=64)
    pass_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=20, strict=True)

    def to_item(self) -> object:
        return PassItem(event_id=self.event_id, pass_id=self.pass_id, quantity=self.quantity)


class VipUpgradeItemIn(_Item):
    """Upgrade one of the buyer's paid registrations to VIP, paying the difference."""

    kind: Literal["vip_upgrade"]
    registration_id: str = Field(min_length=1, max_length=64)

    def to_item(self) -> object:
        return VipUpgradeItem(registration_id=self.registration_id)


class AddressIn(_Item):
    """Where to ship; the rules (required fields, lengths, the country's postal code) are the
    domain's, answered as 422 `invalid_address` naming the field."""

    name: str = Field(max_length=300)
    line1: str = Field(max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str = Field(max_length=300)
    region: str | None = Field(default=None, max_length=300)
    postal_code: str = Field(max_length=32)
    country: str = Field(max_length=8, description="ISO 3166-1 alpha-2, e.g. US.")


class PickupIn(_Item):
    method: Literal["pickup"]


class ShipIn(_Item):
    method: Literal["ship"]
    address: AddressIn


class MerchandiseItemIn(_Item):
    """`quantity` of a product's variant (`GET /v1/events/{event_id}/products`), picked up at
    the event or shipped (one flat-rate shipping line per event and address)."""

    kind: Literal["merchandise"]
    product_id: str = Field(min_length=1, max_length=64)
    variant_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=50, strict=True)
    delivery: Annotated[PickupIn | ShipIn, Field(discriminator="method")]

    def to_item(self) -> object:
        address = None
        if isinstance(self.delivery, ShipIn):
            given = self.delivery.address
            address = AddressInput(
                name=given.name,
                line1=given.line1,
                line2=given.line2,
                city=given.city,
                region=given.region,
                postal_code=given.postal_code,
                country=given.country,
            )
        return MerchandiseItem(
            product_id=self.product_id,
            variant_id=self.variant_id,
            quantity=self.quantity,
            method=self.delivery.method,
            address=address,
        )


OrderItemIn = Annotated[
    RegistrationItemIn
    | TeamItemIn
    | SeriesItemIn
    | PassItemIn
    | VipUpgradeItemIn
    | MerchandiseItemIn,
    Field(discriminator="kind"),
]
"""Every kind of item, told apart by `kind` (a union once there are several)."""
