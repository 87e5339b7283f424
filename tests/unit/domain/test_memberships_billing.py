"""Membership money: proration of tier changes (by example and by property) and renewal quotes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventpay.domain import CurrencyMismatch, FeePayer, FeePolicy, Money, Rounding
from eventpay.domain.membership_billing import (
    MEMBERSHIP_LINE_KIND,
    PRORATION_ROUNDING,
    Proration,
    prorate,
    renewal_line,
    renewal_quote,
)
from eventpay.domain.membership_tiers import (
    DEFAULT_TIERS,
    BillingInterval,
    MembershipError,
    MembershipTier,
    tier_named,
)

from .membership_builders import DAY, period

FREE, PRO, RETAILER = (
    tier_named(DEFAULT_TIERS, code) for code in ("competitor", "pro", "retailer")
)
P = period(0)  # 365 days
LENGTH = P.end - P.start


def change(old: MembershipTier, new: MembershipTier, elapsed: timedelta, **kw: object) -> Proration:
    return prorate(old, new, period_start=P.start, period_end=P.end, at=P.start + elapsed, **kw)  # type: ignore[arg-type]


def usd(cents: int) -> Money:
    return Money(cents, "usd")


def test_upgrade_half_way_credits_half_and_charges_half() -> None:
    quote = change(PRO, RETAILER, LENGTH / 2)
    # 2900 * 1/2 and 9900 * 1/2: exact.
    assert (quote.credit, quote.used, quote.charge) == (usd(1450), usd(1450), usd(4950))
    assert quote.net == usd(3500)
    assert quote.paid == usd(2900)
    assert quote.rounding is Rounding.HALF_EVEN is PRORATION_ROUNDING


def test_downgrade_gives_a_negative_net_the_buyer_is_owed() -> None:
    quote = change(RETAILER, PRO, 73 * DAY)  # 292 of 365 days left
    assert quote.credit == usd(7920)  # 9900 * 292/365 = 7920 exactly
    assert quote.charge == usd(2320)
    assert quote.net == usd(-5600)


def test_ties_round_half_even() -> None:
    one_cent = MembershipTier("penny", "Penny", usd(1), BillingInterval.YEAR, 1, True)
    three = MembershipTier("three", "Three", usd(3), BillingInterval.YEAR, 2, True)
    half = change(one_cent, three, LENGTH / 2)
    assert half.credit == usd(0)  # 0.5 -> 0 (even)
    assert half.charge == usd(2)  # 1.5 -> 2 (even)
    assert half.used == usd(1)


def test_at_the_bounds_of_the_period() -> None:
    start = change(PRO, RETAILER, timedelta(0))
    assert (start.credit, start.charge) == (usd(2900), usd(9900))
    end = change(PRO, RETAILER, LENGTH)
    assert (end.credit, end.charge, end.used) == (usd(0), usd(0), usd(2900))


def test_credit_is_on_what_was_paid_not_the_list_price() -> None:
    quote = change(PRO, RETAILER, LENGTH / 2, paid=usd(1000))
    assert quote.credit == usd(500)
    assert change(FREE, PRO, LENGTH / 2).credit == usd(0)
    assert change(PRO, FREE, LENGTH / 2).charge == usd(0)


def test_proration_refuses_what_it_cannot_quote() -> None:
    with pytest.raises(ValueError, match="outside the period"):
        change(PRO, RETAILER, LENGTH + DAY)
    with pytest.raises(ValueError, match="outside the period"):
        change(PRO, RETAILER, -DAY)
    monthly = MembershipTier("m", "Monthly", usd(300), BillingInterval.MONTH, 5, True)
    with pytest.raises(MembershipError, match="yearly tier into a monthly"):
        change(PRO, monthly, DAY)
    euro = MembershipTier("eu", "Euro", Money(100, "eur"), BillingInterval.YEAR, 5, True)
    with pytest.raises(CurrencyMismatch):
        change(PRO, euro, DAY)
    with pytest.raises(CurrencyMismatch):
        change(PRO, RETAILER, DAY, paid=Money(100, "eur"))
    with pytest.raises(ValueError, match="negative"):
        change(PRO, RETAILER, DAY, paid=usd(-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        prorate(
            PRO, RETAILER, period_start=P.start, period_end=P.end, at=P.start.replace(tzinfo=None)
        )


def test_agreeing_with_the_providers_figure() -> None:
    quote = change(PRO, RETAILER, LENGTH / 2)
    assert quote.agrees_with(usd(3500))
    assert quote.agrees_with(usd(3502))
    assert not quote.agrees_with(usd(3503))
    assert quote.agrees_with(usd(3501), tolerance_minor=1)
    assert not quote.agrees_with(usd(3498), tolerance_minor=1)


prices = st.integers(min_value=0, max_value=10_000_000)
microseconds = st.integers(min_value=0, max_value=LENGTH // timedelta(microseconds=1))


def tier(cents: int, code: str) -> MembershipTier:
    return MembershipTier(code, code, usd(cents), BillingInterval.YEAR, 1, True)


# A loaded machine must not fail a pure test: generation time is not what is tested.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(old=prices, new=prices, paid=prices, elapsed=microseconds)
def test_proration_properties(old: int, new: int, paid: int, elapsed: int) -> None:
    quote = change(
        tier(old, "old"), tier(new, "new"), timedelta(microseconds=elapsed), paid=usd(paid)
    )
    assert quote.credit + quote.used == usd(paid)
    assert usd(0) <= quote.credit <= usd(paid)
    assert usd(0) <= quote.charge <= usd(new)
    assert quote.net == quote.charge - quote.credit
    whole = LENGTH // timedelta(microseconds=1)
    remaining = Fraction(whole - elapsed, whole)
    # Each figure is the exact fraction rounded once: within half a minor unit of it.
    assert abs(quote.credit.amount - paid * remaining) <= Fraction(1, 2)
    assert abs(quote.charge.amount - new * remaining) <= Fraction(1, 2)


@RELAXED
@given(price=prices, a=microseconds, b=microseconds)
def test_the_later_the_change_the_smaller_the_credit_and_charge(price: int, a: int, b: int) -> None:
    early, late = sorted((a, b))
    first = change(tier(price, "old"), tier(price, "new"), timedelta(microseconds=early))
    second = change(tier(price, "old"), tier(price, "new"), timedelta(microseconds=late))
    assert second.credit <= first.credit
    assert second.charge <= first.charge
    # Same price on both sides: a change costs nothing either way.
    assert first.net.is_zero()


def test_renewal_line_and_quote_have_no_platform_fee_by_default() -> None:
    line = renewal_line(PRO, P)
    assert line.kind == MEMBERSHIP_LINE_KIND == "membership"
    assert line.amount == usd(2900)
    assert line.description == "Pro Competitor membership, 2027-01-01 to 2028-01-01"
    quote = renewal_quote(PRO, P)
    assert quote.lines == (line,)
    assert quote.total == usd(2900)
    assert quote.platform_fee == usd(0)
    assert quote.fees == usd(0)


def test_a_buyer_borne_service_fee_can_be_configured() -> None:
    policy = FeePolicy(percent=Decimal("3"), fixed_minor=30, payer=FeePayer.BUYER)
    quote = renewal_quote(RETAILER, P, fee_policy=policy)
    assert quote.fees == usd(297 + 30)
    assert quote.total == usd(9900 + 327)
    assert [line.kind for line in quote.lines] == ["membership", "fee"]


def test_an_organizer_borne_fee_is_refused_and_a_zero_one_is_not() -> None:
    with pytest.raises(ValueError, match="no organizer"):
        renewal_quote(PRO, P, fee_policy=FeePolicy(percent=Decimal("1"), fixed_minor=0))
    with pytest.raises(ValueError, match="no organizer"):
        renewal_quote(PRO, P, fee_policy=FeePolicy(percent=Decimal("0"), fixed_minor=5))
    zero = renewal_quote(PRO, P, fee_policy=FeePolicy(percent=Decimal("0"), fixed_minor=0))
    assert zero.total == usd(2900)


def test_the_free_tier_has_no_renewal() -> None:
    with pytest.raises(MembershipError, match="free tier"):
        renewal_line(FREE, P)
