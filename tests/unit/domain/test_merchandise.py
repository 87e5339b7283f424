"""Merchandise rules: what an organizer may offer, what a shipping address must be, and what an
item and its shipping cost (the item's price times its quantity, shipping once at the highest
flat rate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.errors import DomainError
from eventpay.domain.merchandise import (
    COUNTRY_CODES,
    MAX_QUANTITY,
    MAX_VARIANTS,
    InvalidAddress,
    InvalidProduct,
    MerchandiseError,
    VariantDraft,
    check_new_variants,
    check_offer,
    check_price,
    check_product,
    check_quantity,
    merchandise_line,
    on_sale,
    parse_address,
    shipping_line,
    shipping_rate,
    variant_label,
)
from eventpay.domain.pricing import LineKind

ADDRESS: dict[str, Any] = {
    "name": "Dana Bass",
    "line1": "12 Subwoofer Lane",
    "city": "Austin",
    "region": "TX",
    "postal_code": "78701",
    "country": "US",
}
TEE = VariantDraft(sku="TEE-M", price=2500, stock=10, size="M", colour="black")


def _address(**changes: Any) -> dict[str, Any]:
    return {**ADDRESS, **changes}


def _product(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Tee",
        "description": None,
        "variants": (TEE,),
        "flat_rate": 800,
        "pickup": False,
        "currency": "usd",
    }
    return {**values, **changes}


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    ("country", "raw", "stored"),
    [
        ("US", "78701", "78701"),
        ("US", "78701-1234", "78701-1234"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("CA", "K1A  0B1", "K1A 0B1"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "M1 1AE", "M1 1AE"),
        ("GB", "gir0aa", "GIR 0AA"),
        ("DE", "10115", "10115"),
        ("NL", "1234 ab", "1234 AB"),
        ("IE", "D02-X285", "D02-X285"),
        ("fr", "75001", "75001"),
    ],
)
def test_postal_codes_are_checked_per_country_and_normalized(
    country: str, raw: str, stored: str
) -> None:
    address = parse_address(**_address(country=country, postal_code=raw))
    assert (address.postal_code, address.country) == (stored, country.upper())


@pytest.mark.parametrize(
    ("country", "raw"),
    [
        ("US", "7870"),
        ("US", "78701-12"),
        ("US", "ABCDE"),
        ("CA", "D1A 0B1"),  # D never starts a Canadian postal code
        ("CA", "K1A 0B"),
        ("GB", "SW1A 1A"),
        ("GB", "12345"),
        ("DE", "1011"),
        ("DE", "101155"),
        ("FR", ""),
        ("FR", "75-001!"),
        ("FR", "1234567890123"),
        ("FR", "-75001"),
    ],
)
def test_a_postal_code_that_does_not_fit_its_country_is_refused(country: str, raw: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        parse_address(**_address(country=country, postal_code=raw))
    assert refused.value.field == "postal_code"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Dana\x00"}, "name"),
        ({"line1": ""}, "line1"),
        ({"line1": "x" * 201}, "line1"),
        ({"line2": "x" * 201}, "line2"),
        ({"city": ""}, "city"),
        ({"region": "x" * 101}, "region"),
        ({"country": "XX"}, "country"),
        ({"country": "USA"}, "country"),
        ({"country": ""}, "country"),
    ],
)
def test_each_field_is_checked_and_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        parse_address(**_address(**changes))
    assert refused.value.field == field
    assert refused.value.code == "invalid_address"
    assert refused.value.details == {"field": field}
    assert isinstance(refused.value, MerchandiseError)
    assert isinstance(refused.value, DomainError)


def test_an_address_is_trimmed_and_optional_fields_may_be_blank() -> None:
    address = parse_address(
        **_address(name="  Dana Bass ", line2="   ", region=None, country=" us ")
    )
    assert (address.name, address.line2, address.region, address.country) == (
        "Dana Bass",
        None,
        None,
        "US",
    )
    with_line2 = parse_address(**_address(line2=" Unit 4 "))
    assert with_line2.line2 == "Unit 4"


def test_the_same_destination_is_recognized_whatever_the_case_and_spacing() -> None:
    one = parse_address(**_address())
    same = parse_address(**_address(name="dana  bass", line1="12 SUBWOOFER LANE"))
    other = parse_address(**_address(line1="14 Subwoofer Lane"))
    assert one.key == same.key
    assert one.key != other.key


def test_the_country_list_is_iso_3166_alpha_2() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"US", "CA", "GB", "DE", "FR", "JP"} <= COUNTRY_CODES
    assert "UK" not in COUNTRY_CODES
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)


# ------------------------------------------------------------------ products


def test_a_sensible_product_passes() -> None:
    check_product(**_product())
    check_product(**_product(flat_rate=None, pickup=True, description="Soft cotton."))
    check_product(**_product(flat_rate=0, flat_rate_currency="USD"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"description": "x" * 2001}, "description"),
        ({"variants": ()}, "variants"),
        ({"variants": (VariantDraft(sku="", price=1),)}, "variants[0].sku"),
        ({"variants": (VariantDraft(sku="-TEE", price=1),)}, "variants[0].sku"),
        ({"variants": (VariantDraft(sku="TEE M", price=1),)}, "variants[0].sku"),
        ({"variants": (TEE, VariantDraft(sku="x", price=1, size="x" * 33))}, "variants[1].size"),
        ({"variants": (VariantDraft(sku="x", price=1, colour="x" * 33),)}, "variants[0].colour"),
        ({"variants": (VariantDraft(sku="x", price=-1),)}, "variants[0].price"),
        ({"variants": (VariantDraft(sku="x", price=True),)}, "variants[0].price"),
        ({"variants": (VariantDraft(sku="x", price=10_000_001),)}, "variants[0].price"),
        ({"variants": (VariantDraft(sku="x", price=1, currency="eur"),)}, "variants[0].price"),
        ({"variants": (VariantDraft(sku="x", price=1, stock=-1),)}, "variants[0].stock"),
        ({"variants": (VariantDraft(sku="x", price=1, stock=1_000_001),)}, "variants[0].stock"),
        ({"variants": (TEE, VariantDraft(sku="tee-m", price=1))}, "variants[1].sku"),
        ({"flat_rate": None, "pickup": False}, "shipping"),
        ({"flat_rate": -5}, "shipping.flat_rate"),
        ({"flat_rate": 500, "flat_rate_currency": "cad"}, "shipping.flat_rate"),
    ],
)
def test_each_broken_rule_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidProduct) as refused:
        check_product(**_product(**changes))
    assert refused.value.field == field
    assert refused.value.code == "invalid_product"
    assert field in str(refused.value)


def test_the_price_cap_follows_the_currency_exponent() -> None:
    assert check_price(10_000_000, "usd", "price") == Money(10_000_000, "usd")
    assert check_price(100_000, "jpy", "price") == Money(100_000, "jpy")
    with pytest.raises(InvalidProduct):
        check_price(100_001, "jpy", "price")
    with pytest.raises(InvalidProduct):
        check_price("12", "usd", "price")  # type: ignore[arg-type]


def test_new_variants_must_not_repeat_an_existing_sku() -> None:
    check_new_variants([VariantDraft(sku="TEE-L", price=1)], "usd", existing_skus=["TEE-M"])
    with pytest.raises(InvalidProduct) as refused:
        check_new_variants(
            [VariantDraft(sku="TEE-L", price=1), VariantDraft(sku="Tee-M", price=1)],
            "usd",
            existing_skus=["TEE-M"],
            field="add_variants",
        )
    assert refused.value.field == "add_variants[1].sku"


def test_a_product_has_a_bounded_number_of_variants() -> None:
    many = [VariantDraft(sku=f"V{n}", price=1) for n in range(MAX_VARIANTS)]
    check_new_variants(many, "usd")
    with pytest.raises(InvalidProduct) as refused:
        check_new_variants(many[:2], "usd", existing_skus=[f"X{n}" for n in range(99)])
    assert refused.value.field == "variants"


def test_an_offer_needs_shipping_or_pickup() -> None:
    check_offer(None, True, "usd")
    check_offer(0, False, "usd")
    with pytest.raises(InvalidProduct):
        check_offer(None, False, "usd")


@pytest.mark.parametrize(("quantity", "ok"), [(0, False), (1, True), (50, True), (51, False)])
def test_quantity_is_one_to_fifty(quantity: int, ok: bool) -> None:
    if ok:
        check_quantity(quantity)
        return
    with pytest.raises(InvalidProduct) as refused:
        check_quantity(quantity)
    assert refused.value.field == "quantity"


def test_merchandise_is_sold_until_the_event_is_over() -> None:
    start = datetime(2027, 5, 1, 14, tzinfo=UTC)
    end = start + timedelta(days=2)
    assert on_sale(starts_at=start, ends_at=end, now=end - timedelta(seconds=1))
    assert not on_sale(starts_at=start, ends_at=end, now=end)
    assert on_sale(starts_at=start, ends_at=None, now=start - timedelta(seconds=1))
    assert not on_sale(starts_at=start, ends_at=None, now=start)


# ------------------------------------------------------------------ pricing


def test_a_line_is_the_price_times_the_quantity() -> None:
    line = merchandise_line(
        event_id="spring",
        product="Tee",
        variant="M, black",
        unit_price=Money(2500, "usd"),
        quantity=3,
    )
    assert line.amount == Money(7500, "usd")
    assert (line.kind, line.event_id, line.class_id) == (LineKind.MERCHANDISE, "spring", None)
    assert line.description == "Tee (M, black) x 3"
    with pytest.raises(InvalidProduct):
        merchandise_line(
            event_id="spring",
            product="Tee",
            variant="M",
            unit_price=Money(1, "usd"),
            quantity=MAX_QUANTITY + 1,
        )


def test_a_variant_is_named_by_size_and_colour_else_by_sku() -> None:
    assert variant_label(size="M", colour="black", sku="TEE-M") == "M, black"
    assert variant_label(size=None, colour="red", sku="TEE-R") == "red"
    assert variant_label(size=None, colour=None, sku="STICKERS") == "STICKERS"


def test_one_shipment_costs_the_highest_flat_rate() -> None:
    assert shipping_rate([Money(500, "usd"), Money(800, "usd"), Money(0, "usd")]) == Money(
        800, "usd"
    )
    with pytest.raises(ValueError, match="at least one"):
        shipping_rate([])
    to = parse_address(**_address())
    line = shipping_line(event_id="spring", event_name="Spring", to=to, rate=Money(800, "usd"))
    assert (line.kind, line.amount, line.event_id) == ("shipping", Money(800, "usd"), "spring")
    assert line.description == "Spring — shipping to Austin, US"


@given(
    units=st.lists(st.tuples(st.integers(0, 10_000_000), st.integers(1, MAX_QUANTITY)), min_size=1),
    rates=st.lists(st.integers(0, 100_000), min_size=1, max_size=10),
)
def test_a_basket_of_merchandise_adds_up_exactly(
    units: list[tuple[int, int]], rates: list[int]
) -> None:
    lines = [
        merchandise_line(
            event_id="e", product="P", variant="V", unit_price=Money(price, "usd"), quantity=qty
        )
        for price, qty in units
    ]
    shipping = shipping_rate([Money(rate, "usd") for rate in rates])
    total = sum((line.amount.amount for line in lines), shipping.amount)
    assert total == sum(price * qty for price, qty in units) + max(rates)
    assert shipping.amount in rates
