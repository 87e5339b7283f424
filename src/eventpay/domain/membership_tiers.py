"""Membership tiers: what the platform sells, at what price, and which tiers give member prices.

A tier is a value (code, name, price, billing interval, rank); the platform's list comes from
settings (``parse_tiers``) or ``DEFAULT_TIERS``. ``rank`` orders tiers for upgrades and
downgrades: it is the tier's position in the list, so the settings string is written from the
cheapest tier up.

Which tiers give competitors member prices: every paid tier (Pro Competitor and above). The free
Competitor tier is an account, not a membership: it has no subscription, no renewal and no member
prices, otherwise the member price would be everybody's price. A settings entry can override
this with a sixth part (``member`` or ``nonmember``), for a paid tier that is a sponsorship
rather than a competitor membership.

What must not live here: a membership's lifecycle (``memberships``), proration and renewal lines
(``membership_billing``), provider identifiers (a tier's Stripe Price or PayPal Plan id is
configuration of the provider adapter, keyed by the tier's code).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.errors import DomainError, MoneyError
from eventpay.domain.money import Money

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MAX_PRICE_MINOR = 10_000_000


class MembershipError(DomainError):
    """A membership request was refused (a tier change across intervals, a free tier renewal)."""

    code = "membership_error"


class BillingInterval(StrEnum):
    YEAR = "year"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class MembershipTier:
    """One tier as sold: ``price`` per ``interval``; a zero price is a free tier."""

    code: str
    name: str
    price: Money
    interval: BillingInterval
    rank: int
    gives_member_pricing: bool

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ValueError(f"tier code must match {_CODE.pattern}, got {self.code!r}")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"tier {self.code!r}: name must not be empty")
        if not isinstance(self.price, Money) or not 0 <= self.price.amount <= _MAX_PRICE_MINOR:
            raise ValueError(
                f"tier {self.code!r}: price must be 0 to {_MAX_PRICE_MINOR} minor units"
            )
        object.__setattr__(self, "interval", BillingInterval(self.interval))
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or self.rank < 0:
            raise ValueError(f"tier {self.code!r}: rank must be an int >= 0")

    @property
    def is_free(self) -> bool:
        return self.price.is_zero()


def _usd(cents: int) -> Money:
    return Money(cents, "usd")


DEFAULT_TIERS: tuple[MembershipTier, ...] = (
    MembershipTier("competitor", "Competitor", _usd(0), BillingInterval.YEAR, 0, False),
    MembershipTier("pro", "Pro Competitor", _usd(2900), BillingInterval.YEAR, 1, True),
    MembershipTier("retailer", "Retailer", _usd(9900), BillingInterval.YEAR, 2, True),
    MembershipTier("manufacturer", "Manufacturer", _usd(19900), BillingInterval.YEAR, 3, True),
    MembershipTier("organization", "Organization", _usd(29900), BillingInterval.YEAR, 4, True),
)
"""The tiers the platform sells unless settings say otherwise (issue 9)."""

DEFAULT_TIERS_SETTING = ",".join(
    f"{t.code}:{t.name}:{t.price.amount}:{t.price.currency}:{t.interval.value}"
    for t in DEFAULT_TIERS
)
"""``DEFAULT_TIERS`` in the settings form ``parse_tiers`` reads."""

_MEMBER_FLAGS = {"member": True, "nonmember": False}


def parse_tiers(text: str) -> tuple[MembershipTier, ...]:
    """Tiers from ``"code:Name:amount_minor:currency:interval[:member|nonmember],..."``.

    Tiers are ranked in the order given (cheapest first). All tiers share one currency, so that
    any two can be prorated against each other. ``ValueError`` names the entry and the part
    that is wrong.
    """
    entries = [entry.strip() for entry in text.split(",")]
    if not any(entries):
        raise ValueError("membership tiers: no tier given")
    tiers: list[MembershipTier] = []
    for rank, entry in enumerate(entries):
        tiers.append(_parse_entry(entry, rank))
    codes = [tier.code for tier in tiers]
    for code in codes:
        if codes.count(code) > 1:
            raise ValueError(f"membership tiers: code {code!r} given twice")
    currencies = {tier.price.currency for tier in tiers}
    if len(currencies) > 1:
        raise ValueError(f"membership tiers: one currency for all tiers, got {sorted(currencies)}")
    return tuple(tiers)


def _parse_entry(entry: str, rank: int) -> MembershipTier:
    parts = [part.strip() for part in entry.split(":")]
    if len(parts) not in (5, 6):
        raise ValueError(
            f"membership tier {entry!r}: expected code:name:amount:currency:interval[:member]"
        )
    code, name, amount, currency, interval = parts[:5]
    if not _CODE.fullmatch(code):
        raise ValueError(f"membership tier {entry!r}: code {code!r} must match {_CODE.pattern}")
    if not name:
        raise ValueError(f"membership tier {entry!r}: name is empty")
    if not amount.isdigit() or int(amount) > _MAX_PRICE_MINOR:
        raise ValueError(
            f"membership tier {entry!r}: amount {amount!r} must be 0 to {_MAX_PRICE_MINOR} "
            "minor units"
        )
    try:
        price = Money(int(amount), currency)
    except MoneyError:
        raise ValueError(f"membership tier {entry!r}: unknown currency {currency!r}") from None
    if interval not in {member.value for member in BillingInterval}:
        raise ValueError(f"membership tier {entry!r}: interval {interval!r} is not year or month")
    member = price.is_positive()
    if len(parts) == 6:
        if parts[5] not in _MEMBER_FLAGS:
            raise ValueError(
                f"membership tier {entry!r}: flag {parts[5]!r} is not member or nonmember"
            )
        member = _MEMBER_FLAGS[parts[5]]
    return MembershipTier(code, name, price, BillingInterval(interval), rank, member)


def tiers_by_code(tiers: Sequence[MembershipTier]) -> Mapping[str, MembershipTier]:
    """``tiers`` keyed by code, read-only."""
    return MappingProxyType({tier.code: tier for tier in tiers})


def find_tier(tiers: Sequence[MembershipTier], code: str) -> MembershipTier | None:
    """The tier with ``code``; None when the platform no longer sells it."""
    return next((tier for tier in tiers if tier.code == code), None)


RETIRED_TIER_GIVES_MEMBER_PRICING = False
"""A tier taken out of the settings gives no member prices: nothing records whether a tier that
is gone ever gave them (a retired paid tier may have been a sponsorship), and giving them to
every unknown code would hand member prices to tiers that never had them. An operator who wants
a retired tier's members to keep member prices keeps the tier in the settings."""


def member_pricing_of(tiers: Sequence[MembershipTier], code: str) -> bool:
    """Whether a member of tier ``code`` pays member prices (``RETIRED_TIER_GIVES_MEMBER_PRICING``,
    no, for a tier no longer in the settings)."""
    tier = find_tier(tiers, code)
    return RETIRED_TIER_GIVES_MEMBER_PRICING if tier is None else tier.gives_member_pricing


def tier_named(tiers: Sequence[MembershipTier], code: str) -> MembershipTier:
    """The tier with ``code``; ``MembershipError`` when the platform does not sell it."""
    tier = find_tier(tiers, code)
    if tier is None:
        raise MembershipError(f"unknown membership tier: {code!r}")
    return tier
