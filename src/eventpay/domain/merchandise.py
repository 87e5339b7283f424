"""Merchandise: what an organizer may offer, what a buyer's delivery address must be, and what
merchandise and its shipping cost.

- ``check_product`` and ``check_variant`` say whether a product an organizer describes may be
  sold (name, SKUs unique within the product, prices within the catalog's cap in the event's
  currency, a stock of 0 to ``MAX_CAPACITY`` or unlimited, shipping or pick-up offered); each
  refusal names its field (``variants[1].price``).
- ``parse_address`` validates and normalizes a shipping address: required fields, lengths, an
  ISO 3166-1 alpha-2 country from ``COUNTRY_CODES``, and the postal code's pattern for the
  countries whose format is known here (US, CA, GB, DE; any other country: 1 to 12 letters,
  digits, spaces or dashes).
- ``merchandise_line`` prices ``quantity`` of a variant; ``shipping_line`` charges one flat
  rate per event and address: several items of one event shipped to the same address pay it
  once, at the highest flat rate among their products (``shipping_rate``).

What must not live here: stock counts (the places, ``domain.places`` and the database), which
items of a basket ship together (the pricer, ``services.basket_merch``), storing anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from eventpay.domain.catalog import MAX_CAPACITY
from eventpay.domain.catalog_rules import max_price
from eventpay.domain.errors import DomainError
from eventpay.domain.money import Money
from eventpay.domain.pricing import LineKind, QuoteLine

MAX_QUANTITY = 50
"""Of one variant in one item: more is a typing error, or a reseller."""
MAX_VARIANTS = 100
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRY_CODES = frozenset(
    re.findall(
        r"[A-Z]{2}",
        """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
        BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
        DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
        GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
        KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
        MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
        PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
        SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
        VN VU WF WS YE YT ZA ZM ZW
        """,
    )
)

POSTAL_PATTERNS: dict[str, re.Pattern[str]] = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d$"),
    "GB": re.compile(r"^(GIR 0AA|[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})$"),
    "DE": re.compile(r"^\d{5}$"),
}
"""Countries whose postal code format is checked exactly (after ``_postal_form``)."""
ANY_POSTAL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,11}$")
_SPACE_BEFORE_LAST_THREE = frozenset({"CA", "GB"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ADDRESS_LIMITS = {"name": 100, "line1": 200, "line2": 200, "city": 100, "region": 100}


class MerchandiseError(DomainError):
    """What an organizer or a buyer gave is refused; ``field`` names it."""

    code = "merchandise_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def details(self) -> dict[str, str]:
        return {"field": self.field}


class InvalidProduct(MerchandiseError):
    code = "invalid_product"


class InvalidAddress(MerchandiseError):
    code = "invalid_address"


class DeliveryMethod(StrEnum):
    PICKUP = "pickup"
    SHIP = "ship"


# ------------------------------------------------------------------ products


@dataclass(frozen=True, slots=True)
class VariantDraft:
    """A variant as an organizer describes it; ``price`` in minor units of the event's
    currency (``currency``: the one they named, None for the event's), ``stock`` None for
    unlimited."""

    sku: str
    price: int
    stock: int | None = None
    size: str | None = None
    colour: str | None = None
    currency: str | None = None


def check_price(amount: int, currency: str, field: str, *, given: str | None = None) -> Money:
    """``amount`` minor units of the event's ``currency`` (``given``: the currency the
    organizer named, if any), from 0 to the catalog's cap."""
    cap = max_price(currency)
    if given is not None and given.lower() != cap.currency:
        raise InvalidProduct(field, f"must be in the event's currency ({cap.currency})")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidProduct(field, "must be an integer amount of minor units")
    if not 0 <= amount <= cap.amount:
        raise InvalidProduct(field, f"must be 0 to {cap.amount} minor units")
    return Money(amount, currency)


def check_stock(stock: int | None, field: str) -> None:
    if stock is not None and not 0 <= stock <= MAX_CAPACITY:
        raise InvalidProduct(field, f"must be 0 to {MAX_CAPACITY}, or null for no limit")


def _check_text(value: str | None, field: str, *, limit: int, required: bool) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidProduct(field, "is required")
        return
    if len(value) > limit:
        raise InvalidProduct(field, f"must be at most {limit} characters")


def check_variant(draft: VariantDraft, currency: str, at: str) -> None:
    """The variant's own rules; ``at`` is its path (``variants[0]``)."""
    if not SKU_PATTERN.match(draft.sku):
        raise InvalidProduct(
            f"{at}.sku", "must be 1 to 64 letters, digits, '.', '_' or '-', starting alphanumeric"
        )
    _check_text(draft.size, f"{at}.size", limit=32, required=False)
    _check_text(draft.colour, f"{at}.colour", limit=32, required=False)
    check_price(draft.price, currency, f"{at}.price", given=draft.currency)
    check_stock(draft.stock, f"{at}.stock")


def check_new_variants(
    drafts: Sequence[VariantDraft],
    currency: str,
    *,
    existing_skus: Sequence[str] = (),
    field: str = "variants",
) -> None:
    """New variants: each valid, SKUs unique within the product (case-insensitive)."""
    seen = {sku.casefold() for sku in existing_skus}
    if len(seen) + len(drafts) > MAX_VARIANTS:
        raise InvalidProduct(field, f"a product has at most {MAX_VARIANTS} variants")
    for index, draft in enumerate(drafts):
        at = f"{field}[{index}]"
        check_variant(draft, currency, at)
        if draft.sku.casefold() in seen:
            raise InvalidProduct(f"{at}.sku", f"SKU {draft.sku!r} is given twice")
        seen.add(draft.sku.casefold())


def check_offer(
    flat_rate: int | None, pickup: bool, currency: str, *, given: str | None = None
) -> None:
    """A product ships at a flat rate, or is picked up at the event, or both."""
    if flat_rate is None and not pickup:
        raise InvalidProduct("shipping", "offer shipping, pick-up at the event, or both")
    if flat_rate is not None:
        check_price(flat_rate, currency, "shipping.flat_rate", given=given)


def check_product(
    *,
    name: str,
    description: str | None,
    variants: Sequence[VariantDraft],
    flat_rate: int | None,
    pickup: bool,
    currency: str,
    flat_rate_currency: str | None = None,
) -> None:
    """Every rule of a new product, the first one broken raised naming its field."""
    check_name(name)
    check_description(description)
    if not variants:
        raise InvalidProduct("variants", "a product needs at least one variant")
    check_new_variants(variants, currency)
    check_offer(flat_rate, pickup, currency, given=flat_rate_currency)


def check_name(name: str) -> None:
    _check_text(name, "name", limit=200, required=True)


def check_description(description: str | None) -> None:
    _check_text(description, "description", limit=2000, required=False)


def check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidProduct("quantity", f"must be 1 to {MAX_QUANTITY}")


def on_sale(*, starts_at: datetime, ends_at: datetime | None, now: datetime) -> bool:
    """Merchandise is sold until its event is over (its end, or its start for an event
    without one), so a pick-up can still happen and a shipment still means something."""
    return now < (ends_at or starts_at)


# ------------------------------------------------------------------ addresses


@dataclass(frozen=True, slots=True)
class Address:
    """A validated shipping address, normalized (trimmed, country and postal code upper-case,
    CA and GB postal codes with their one space)."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two addresses the same destination (case and spacing aside)."""
        return tuple(
            " ".join((part or "").split()).casefold()
            for part in (
                self.name,
                self.line1,
                self.line2,
                self.city,
                self.region,
                self.postal_code,
                self.country,
            )
        )


def _clean(value: str | None, field: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidAddress(field, "is required")
        return None
    if _CONTROL.search(text):
        raise InvalidAddress(field, "must not contain control characters")
    limit = ADDRESS_LIMITS[field]
    if len(text) > limit:
        raise InvalidAddress(field, f"must be at most {limit} characters")
    return text


def _postal_form(raw: str, country: str) -> str:
    code = " ".join(raw.upper().split())
    if country in _SPACE_BEFORE_LAST_THREE:
        compact = code.replace(" ", "")
        code = f"{compact[:-3]} {compact[-3:]}"
    return code


def parse_address(
    *,
    name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str | None = None,
    region: str | None = None,
) -> Address:
    """The address, validated and normalized, or ``InvalidAddress`` naming the first field
    refused (``name``, ``line1``, ``line2``, ``city``, ``region``, ``country``,
    ``postal_code``, in that order)."""
    clean_name = _clean(name, "name", required=True)
    clean_line1 = _clean(line1, "line1", required=True)
    clean_line2 = _clean(line2, "line2", required=False)
    clean_city = _clean(city, "city", required=True)
    clean_region = _clean(region, "region", required=False)
    code = (country or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise InvalidAddress("country", "must be an ISO 3166-1 alpha-2 country code")
    postal = _postal_form(postal_code or "", code)
    pattern = POSTAL_PATTERNS.get(code, ANY_POSTAL_CODE)
    if not pattern.match(postal):
        raise InvalidAddress("postal_code", f"is not a postal code of {code}")
    assert clean_name is not None
    assert clean_line1 is not None
    assert clean_city is not None
    return Address(
        name=clean_name,
        line1=clean_line1,
        line2=clean_line2,
        city=clean_city,
        region=clean_region,
        postal_code=postal,
        country=code,
    )


# ------------------------------------------------------------------ pricing


def variant_label(*, size: str | None, colour: str | None, sku: str) -> str:
    """How a variant is named to a buyer: its size and colour, else its SKU."""
    parts = [part for part in (size, colour) if part]
    return ", ".join(parts) if parts else sku


def merchandise_line(
    *, event_id: str, product: str, variant: str, unit_price: Money, quantity: int
) -> QuoteLine:
    """``quantity`` of one variant at its unit price."""
    check_quantity(quantity)
    return QuoteLine(
        kind=LineKind.MERCHANDISE,
        description=f"{product} ({variant}) x {quantity}",
        amount=unit_price * quantity,
        event_id=event_id,
    )


def shipping_rate(rates: Sequence[Money]) -> Money:
    """One shipment's flat rate: the highest of the products shipped together."""
    if not rates:
        raise ValueError("a shipment has at least one product")
    return max(rates)


def shipping_line(*, event_id: str, event_name: str, to: Address, rate: Money) -> QuoteLine:
    """The one shipping line of ``event_id``'s merchandise sent to ``to``."""
    return QuoteLine(
        kind=LineKind.SHIPPING,
        description=f"{event_name} — shipping to {to.city}, {to.country}",
        amount=rate,
        event_id=event_id,
    )
