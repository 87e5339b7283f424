"""The bodies of catalog set-up (`POST /v1/events`, `PATCH /v1/events/{event_id}`), and their
translation into the domain's drafts.

Only shapes are checked here (types, lengths, unknown fields: a 422 `validation_error`); every
rule about values (negative or absurd prices, a currency the event does not use, dates in the
wrong order, capacities) is the domain's (`domain.catalog_rules`), answered as 422
`invalid_event` naming the field. A price is an integer of the event's minor unit or a money
object `{"amount", "currency"}` whose currency must be the event's. The catalog import command
reads its file through the same models.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StrictInt

from eventpay.domain.catalog_rules import CLASS_FIELDS, ClassDraft, EventDraft, Price
from eventpay.services.catalog_admin import ClassPatch, EventPatch
from eventpay.services.errors import InvalidRequest
from eventpay.web.schemas import Strict

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Slug = Annotated[str, Field(pattern=SLUG, description="Lowercase letters, digits, - and _.")]


class PriceIn(Strict):
    amount: StrictInt = Field(description="Integer amount in the currency's minor unit.")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="Must be the event's currency.")


PriceValue = Annotated[
    StrictInt | PriceIn,
    Field(description="Minor units of the event's currency, or a money object in it."),
]


class ClassIn(Strict):
    id: Slug | None = Field(default=None, description="Omitted: the server chooses one.")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    member_price: PriceValue
    non_member_price: PriceValue
    additional_class_price: PriceValue | None = Field(
        default=None, description="The price when entered besides a more expensive class."
    )
    early_bird_price: PriceValue | None = None
    early_bird_deadline: datetime | None = Field(
        default=None,
        description="With an offset; the early-bird price applies strictly before it. Not "
        "before registration opens, not after the event starts.",
    )
    capacity: StrictInt | None = Field(default=None, description="Places; null: no limit.")


class EventIn(Strict):
    id: Slug | None = Field(default=None, description="Omitted: the server chooses one.")
    organizer_id: str | None = Field(
        default=None,
        max_length=64,
        description="Required for an admin; an organizer's own when omitted.",
    )
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64, description="IANA time zone, e.g. America/Chicago.")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code.")
    starts_at: datetime
    ends_at: datetime | None = Field(default=None, description="Null: over when it starts.")
    registration_opens_at: datetime
    registration_closes_at: datetime = Field(description="Not after the event starts.")
    refund_cutoff_at: datetime | None = Field(
        default=None, description="Full refunds before it; not after the event starts."
    )
    late_refund_fee_percent: Decimal | None = Field(
        default=None,
        description="Kept of a withdrawal between the cutoff and the start; null: no refund.",
    )
    classes: list[ClassIn] = Field(default_factory=list, max_length=100)


class ClassPatchIn(Strict):
    id: Slug | None = Field(
        default=None, description="An existing class to change, or a new class's id."
    )
    code: str | None = Field(default=None, min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    member_price: PriceValue | None = None
    non_member_price: PriceValue | None = None
    additional_class_price: PriceValue | None = None
    early_bird_price: PriceValue | None = None
    early_bird_deadline: datetime | None = None
    capacity: StrictInt | None = None


class EventPatchIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    refund_cutoff_at: datetime | None = None
    late_refund_fee_percent: Decimal | None = None
    classes: list[ClassPatchIn] = Field(
        default_factory=list,
        max_length=100,
        description="Classes to change (by id: only the fields given) or to add.",
    )
    remove_class_ids: list[Slug] = Field(
        default_factory=list,
        max_length=100,
        description="Classes to remove; refused (409 `class_has_orders`) once ordered.",
    )


# Fields a PATCH may leave out but never set to null.
_REQUIRED_EVENT = frozenset(
    {"name", "timezone", "currency", "starts_at", "registration_opens_at", "registration_closes_at"}
)
_REQUIRED_CLASS = frozenset({"code", "name", "member_price", "non_member_price"})


def _price(value: int | PriceIn | None) -> Price | None:
    if value is None:
        return None
    if isinstance(value, PriceIn):
        return Price(value.amount, value.currency)
    return Price(value)


def _value(name: str, value: Any) -> Any:
    return _price(value) if name.endswith("_price") else value


def class_draft(c: ClassIn) -> ClassDraft:
    return ClassDraft(id=c.id, **{name: _value(name, getattr(c, name)) for name in CLASS_FIELDS})


def event_draft(body: EventIn) -> EventDraft:
    return EventDraft(
        id=body.id,
        organizer_id=body.organizer_id,
        name=body.name,
        timezone=body.timezone,
        currency=body.currency,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        registration_opens_at=body.registration_opens_at,
        registration_closes_at=body.registration_closes_at,
        refund_cutoff_at=body.refund_cutoff_at,
        late_refund_fee_percent=body.late_refund_fee_percent,
        classes=tuple(class_draft(c) for c in body.classes),
    )


def _given(model: Strict, where: str, required: frozenset[str]) -> dict[str, Any]:
    out = {}
    for name in sorted(model.model_fields_set - {"id", "classes", "remove_class_ids"}):
        value = getattr(model, name)
        if value is None and name in required:
            field = f"{where}{name}"
            raise InvalidRequest("invalid_event", f"{field}: must not be null.", {"field": field})
        out[name] = _value(name, value)
    return out


def event_patch(body: EventPatchIn) -> EventPatch:
    return EventPatch(
        fields=_given(body, "", _REQUIRED_EVENT),
        classes=tuple(
            ClassPatch(c.id, _given(c, f"classes[{i}].", _REQUIRED_CLASS))
            for i, c in enumerate(body.classes)
        ),
        remove_class_ids=tuple(body.remove_class_ids),
    )
