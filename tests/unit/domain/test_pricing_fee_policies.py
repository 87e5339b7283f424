"""Platform fee policies per organizer and per event: which one applies, and multi-event orders.

The rule under test (docs/decisions.md, "Platform fee policies"): an event's lines are charged
under the event's own policy, else its organizer's, else the platform's; each event's fee is
computed on that event's subtotal alone, so an event costs its organizer the same fee whether a
buyer buys it alone or together with other events.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    FeePayer,
    FeePolicy,
    InvalidAmount,
    Money,
    Organizer,
    QuoteLine,
    Rounding,
    quote_order,
)
from eventpay.domain.fee_policy import MAX_FIXED_FEE_MINOR
from eventpay.domain.pricing import FeeShare, fee_policy_for, fee_shares

from .builders import make_event, usd

PLATFORM = FeePolicy(percent=Decimal("5"), fixed_minor=50)
ORGANIZER_RATE = FeePolicy(percent=Decimal("4"), fixed_minor=25)
EVENT_RATE = FeePolicy(percent=Decimal("3"), fixed_minor=0, payer=FeePayer.BUYER)


def line(amount: int, event_id: str | None, currency: str = "usd") -> QuoteLine:
    return QuoteLine(
        kind="registration",
        description=f"{event_id} {amount}",
        amount=Money(amount, currency),
        event_id=event_id,
    )


# ---------------------------------------------------------------------------- which policy


@pytest.mark.parametrize(
    ("event_policy", "organizer_policy", "expected"),
    [
        pytest.param(EVENT_RATE, ORGANIZER_RATE, EVENT_RATE, id="event-wins-over-organizer"),
        pytest.param(EVENT_RATE, None, EVENT_RATE, id="event-wins-over-platform"),
        pytest.param(None, ORGANIZER_RATE, ORGANIZER_RATE, id="organizer-wins-over-platform"),
        pytest.param(None, None, PLATFORM, id="platform-when-neither-has-one"),
    ],
)
def test_the_most_specific_policy_wins(
    event_policy: FeePolicy | None, organizer_policy: FeePolicy | None, expected: FeePolicy
) -> None:
    event = make_event(fee_policy=event_policy)
    organizer = Organizer(id=event.organizer_id, name="Bass Club", fee_policy=organizer_policy)

    assert fee_policy_for(event=event, organizer=organizer, default=PLATFORM) == expected


def test_without_an_organizer_the_event_or_the_platform_decides() -> None:
    assert fee_policy_for(event=make_event(), organizer=None, default=PLATFORM) == PLATFORM
    own = make_event(fee_policy=EVENT_RATE)
    assert fee_policy_for(event=own, organizer=None, default=PLATFORM) == EVENT_RATE


def test_another_organizers_policy_is_a_programming_error() -> None:
    stranger = Organizer(id="org_2", name="Other Club", fee_policy=ORGANIZER_RATE)

    with pytest.raises(ValueError, match="does not run event"):
        fee_policy_for(event=make_event(organizer_id="org_1"), organizer=stranger, default=PLATFORM)


def test_catalog_values_refuse_anything_but_a_fee_policy() -> None:
    with pytest.raises(TypeError, match="organizer 'org_1': fee_policy"):
        Organizer(id="org_1", name="Bass Club", fee_policy={"percent": 5})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="event 'evt_1': fee_policy"):
        make_event(fee_policy=Decimal("5"))  # type: ignore[arg-type]
    assert Organizer(id="org_1", name="Bass Club").fee_policy is None
    assert make_event().fee_policy is None


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("percent", "fixed", "field"),
    [
        pytest.param(Decimal("-0.01"), 0, "'percent'", id="negative-percent"),
        pytest.param(Decimal("100.5"), 0, "'percent'", id="percent-over-100"),
        pytest.param(Decimal("5"), -1, "'fixed_minor'", id="negative-fixed"),
        pytest.param(Decimal("5"), MAX_FIXED_FEE_MINOR + 1, "'fixed_minor'", id="absurd-fixed"),
        pytest.param(Decimal("5"), 10**12, "'fixed_minor'", id="typo-fixed"),
    ],
)
def test_nonsense_is_refused_when_the_policy_is_built_naming_the_field(
    percent: Decimal, fixed: int, field: str
) -> None:
    with pytest.raises(InvalidAmount, match=field):
        FeePolicy(percent=percent, fixed_minor=fixed)


def test_the_bounds_themselves_are_accepted() -> None:
    assert FeePolicy(percent=Decimal("100"), fixed_minor=MAX_FIXED_FEE_MINOR).fixed_minor == (
        MAX_FIXED_FEE_MINOR
    )
    assert FeePolicy(percent=Decimal("0"), fixed_minor=0).fee_for(usd(5000)) == usd(0)


# ---------------------------------------------------------------------------- orders


def test_each_event_is_charged_under_its_own_policy() -> None:
    lines = [line(4000, "spring"), line(2000, "spring"), line(5000, "summer"), line(1000, "fall")]
    policies = {"spring": PLATFORM, "summer": ORGANIZER_RATE}

    shares = fee_shares(currency="usd", lines=lines, fee_policy=EVENT_RATE, event_policies=policies)

    assert shares == (
        FeeShare("spring", PLATFORM, usd(6000), usd(300 + 50)),
        FeeShare("summer", ORGANIZER_RATE, usd(5000), usd(200 + 25)),
        FeeShare("fall", EVENT_RATE, usd(1000), usd(30)),  # not named: the default
    )


def test_lines_of_no_event_are_charged_under_the_default_policy() -> None:
    shares = fee_shares(
        currency="usd", lines=[line(1000, None)], fee_policy=PLATFORM, event_policies={}
    )

    assert shares == (FeeShare(None, PLATFORM, usd(1000), usd(100)),)


def test_the_fixed_part_is_charged_once_per_event_as_if_bought_alone() -> None:
    quote = quote_order(
        currency="usd", lines=[line(4000, "spring"), line(4000, "summer")], fee_policy=PLATFORM
    )

    # 5 % of 4000 = 200, plus 50, for each of the two events.
    assert quote.platform_fee == usd(2 * 250)
    assert quote.total == usd(8000)
    assert quote.organizer_net == usd(7500)


def test_one_event_per_order_prices_exactly_as_a_single_policy_did() -> None:
    lines = [line(4000, "spring"), line(2500, "spring")]

    quote = quote_order(currency="usd", lines=lines, fee_policy=PLATFORM)

    assert quote.platform_fee == PLATFORM.fee_for(usd(6500)) == usd(375)


def test_buyer_paid_fees_make_one_service_fee_line_and_organizer_paid_fees_none() -> None:
    lines = [line(4000, "spring"), line(5000, "summer")]
    policies = {"spring": PLATFORM, "summer": EVENT_RATE}  # organizer pays, buyer pays

    quote = quote_order(currency="usd", lines=lines, fee_policy=PLATFORM, event_policies=policies)

    assert quote.lines[:2] == tuple(lines)
    assert quote.lines[2:] == (QuoteLine(kind="fee", description="Service fee", amount=usd(150)),)
    assert quote.fees == usd(150)
    assert quote.total == usd(9150)
    assert quote.platform_fee == usd(250 + 150)
    assert quote.organizer_net == usd(9000 - 250)


def test_two_buyer_paid_events_still_show_one_service_fee_line() -> None:
    buyer_pays = FeePolicy(percent=Decimal("10"), fixed_minor=10, payer=FeePayer.BUYER)
    lines = [line(1000, "spring"), line(2000, "summer")]

    quote = quote_order(currency="usd", lines=lines, fee_policy=buyer_pays)

    assert [ln.kind for ln in quote.lines] == ["registration", "registration", "fee"]
    assert quote.fees == quote.platform_fee == usd(110 + 210)
    assert quote.organizer_net == quote.subtotal


# ---------------------------------------------------------------------------- properties

POLICIES = st.builds(
    FeePolicy,
    percent=st.decimals(min_value=0, max_value=100, places=2),
    fixed_minor=st.integers(min_value=0, max_value=2_000),
    rounding=st.sampled_from(Rounding),
    payer=st.sampled_from(FeePayer),
)
EVENTS = ["spring", "summer", "fall", None]
BASKETS = st.lists(
    st.tuples(st.sampled_from(EVENTS), st.integers(min_value=0, max_value=10**6)),
    min_size=1,
    max_size=8,
)


@given(
    basket=BASKETS,
    default=POLICIES,
    policies=st.dictionaries(st.sampled_from(EVENTS[:3]), POLICIES),
    currency=st.sampled_from(["usd", "jpy", "kwd"]),
)
def test_an_events_fee_does_not_depend_on_what_else_is_in_the_order(
    basket: list[tuple[str | None, int]],
    default: FeePolicy,
    policies: dict[str, FeePolicy],
    currency: str,
) -> None:
    lines = [line(amount, event_id, currency) for event_id, amount in basket]

    quote = quote_order(currency=currency, lines=lines, fee_policy=default, event_policies=policies)

    alone = {
        event_id: quote_order(
            currency=currency,
            lines=[ln for ln in lines if ln.event_id == event_id],
            fee_policy=default,
            event_policies=policies,
        )
        for event_id in {ln.event_id for ln in lines}
    }
    assert quote.platform_fee == Money(sum(q.platform_fee.amount for q in alone.values()), currency)
    assert quote.fees == Money(sum(q.fees.amount for q in alone.values()), currency)
    assert quote.organizer_net == Money(
        sum(q.organizer_net.amount for q in alone.values()), currency
    )
    assert quote.total == quote.organizer_net + quote.platform_fee
    assert quote.platform_fee <= quote.subtotal
    assert [ln.kind for ln in quote.lines].count("fee") == (0 if quote.fees.is_zero() else 1)
