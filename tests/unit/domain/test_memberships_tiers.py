"""Membership tiers: the defaults the platform sells and the settings form that replaces them."""

from __future__ import annotations

import pytest

from eventpay.domain import DomainError, Money
from eventpay.domain.membership_tiers import (
    DEFAULT_TIERS,
    DEFAULT_TIERS_SETTING,
    BillingInterval,
    MembershipError,
    MembershipTier,
    parse_tiers,
    tier_named,
    tiers_by_code,
)


def test_default_tiers_are_the_issue_prices_cheapest_first() -> None:
    prices = {tier.code: (tier.name, tier.price) for tier in DEFAULT_TIERS}
    assert prices == {
        "competitor": ("Competitor", Money(0, "usd")),
        "pro": ("Pro Competitor", Money(2900, "usd")),
        "retailer": ("Retailer", Money(9900, "usd")),
        "manufacturer": ("Manufacturer", Money(19900, "usd")),
        "organization": ("Organization", Money(29900, "usd")),
    }
    assert [tier.rank for tier in DEFAULT_TIERS] == [0, 1, 2, 3, 4]
    assert all(tier.interval is BillingInterval.YEAR for tier in DEFAULT_TIERS)


def test_member_pricing_from_pro_competitor_up() -> None:
    member = {tier.code for tier in DEFAULT_TIERS if tier.gives_member_pricing}
    assert member == {"pro", "retailer", "manufacturer", "organization"}
    assert [tier.code for tier in DEFAULT_TIERS if tier.is_free] == ["competitor"]


def test_the_default_setting_parses_back_to_the_default_tiers() -> None:
    assert parse_tiers(DEFAULT_TIERS_SETTING) == DEFAULT_TIERS


def test_parse_ranks_in_the_order_given_and_reads_the_member_flag() -> None:
    tiers = parse_tiers(
        " basic:Basic:0:eur:month , club : Club : 500 : EUR : month : nonmember,"
        "gold:Gold:1500:eur:month:member,free2:Free Plus:0:eur:month:member"
    )
    assert [(t.code, t.rank, t.gives_member_pricing) for t in tiers] == [
        ("basic", 0, False),
        ("club", 1, False),
        ("gold", 2, True),
        ("free2", 3, True),
    ]
    assert tiers[1].name == "Club"
    assert tiers[1].price == Money(500, "eur")
    assert tiers[2].interval is BillingInterval.MONTH


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no tier"),
        (" , ", "no tier"),
        ("pro:Pro:2900:usd", "expected code:name"),
        ("pro:Pro:2900:usd:year:member:x", "expected code:name"),
        ("Pro:Pro:2900:usd:year", "code 'Pro'"),
        ("pro::2900:usd:year", "name is empty"),
        ("pro:Pro:-1:usd:year", "amount '-1'"),
        ("pro:Pro:29.00:usd:year", "amount '29.00'"),
        ("pro:Pro:99999999999:usd:year", "amount '99999999999'"),
        ("pro:Pro:2900:xyz:year", "unknown currency 'xyz'"),
        ("pro:Pro:2900:usd:week", "interval 'week'"),
        ("pro:Pro:2900:usd:year:vip", "flag 'vip'"),
        ("pro:Pro:2900:usd:year,pro:Again:100:usd:year", "code 'pro' given twice"),
        ("pro:Pro:2900:usd:year,eu:EU:100:eur:year", "one currency"),
    ],
)
def test_parse_names_the_bad_part(text: str, words: str) -> None:
    with pytest.raises(ValueError, match="membership tier") as caught:
        parse_tiers(text)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"code": "Bad Code"}, "tier code"),
        ({"code": 7}, "tier code"),
        ({"name": "  "}, "name must not be empty"),
        ({"name": None}, "name must not be empty"),
        ({"price": Money(-1, "usd")}, "price must be"),
        ({"price": 2900}, "price must be"),
        ({"interval": "fortnight"}, "fortnight"),
        ({"rank": -1}, "rank"),
        ({"rank": True}, "rank"),
    ],
)
def test_tier_values_are_checked(fields: dict[str, object], words: str) -> None:
    values: dict[str, object] = {
        "code": "pro",
        "name": "Pro",
        "price": Money(2900, "usd"),
        "interval": "year",
        "rank": 1,
        "gives_member_pricing": True,
    }
    values.update(fields)
    with pytest.raises(ValueError, match=words):
        MembershipTier(**values)  # type: ignore[arg-type]


def test_interval_strings_from_storage_become_the_enum() -> None:
    tier = MembershipTier("pro", "Pro", Money(1, "usd"), "month", 1, True)  # type: ignore[arg-type]
    assert tier.interval is BillingInterval.MONTH


def test_lookup_by_code() -> None:
    assert tiers_by_code(DEFAULT_TIERS)["retailer"].price == Money(9900, "usd")
    assert tier_named(DEFAULT_TIERS, "pro").name == "Pro Competitor"
    with pytest.raises(MembershipError, match="'gold'") as caught:
        tier_named(DEFAULT_TIERS, "gold")
    assert caught.value.code == "membership_error"
    assert isinstance(caught.value, DomainError)
