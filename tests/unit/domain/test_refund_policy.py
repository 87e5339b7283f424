"""Refund terms and quotes: the published rule decides, nothing is lost or created."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    CurrencyMismatch,
    InvalidAmount,
    Money,
    RefundRule,
    RefundTerms,
    allocate_refund,
    quote_refund,
    returned_to_buyer,
)

from .builders import STARTS, make_event, usd

CUTOFF = STARTS - timedelta(days=14)
BEFORE = CUTOFF - timedelta(seconds=1)
LATE = CUTOFF + timedelta(days=1)
STARTED = STARTS


def terms(cutoff: datetime | None = CUTOFF, fee: str | None = "20") -> RefundTerms:
    return RefundTerms(
        cutoff_at=cutoff, starts_at=STARTS, late_fee_percent=None if fee is None else Decimal(fee)
    )


@pytest.mark.parametrize(
    ("given_terms", "now", "rule", "back"),
    [
        (terms(), BEFORE, RefundRule.FULL_BEFORE_CUTOFF, 5000),
        (terms(), CUTOFF, RefundRule.LATE_WITH_FEE, 4000),  # the cutoff instant is late
        (terms(), LATE, RefundRule.LATE_WITH_FEE, 4000),
        (terms(fee=None), LATE, RefundRule.NONE_AFTER_CUTOFF, 0),
        (terms(), STARTED, RefundRule.EVENT_STARTED, 0),
        (terms(cutoff=None), BEFORE, RefundRule.NO_POLICY, 0),
        (terms(cutoff=None), STARTED, RefundRule.EVENT_STARTED, 0),
        (terms(fee="0"), LATE, RefundRule.LATE_WITH_FEE, 5000),
        (terms(fee="100"), LATE, RefundRule.LATE_WITH_FEE, 0),
    ],
)
def test_the_rule_in_force_decides_the_refund(
    given_terms: RefundTerms, now: datetime, rule: RefundRule, back: int
) -> None:
    assert given_terms.refund_of(usd(5000), now) == (rule, usd(back))


def test_the_late_fee_rounds_half_up_in_minor_units() -> None:
    # 12.5 % of 0.01 ... 0.04: 0.125, 0.25, 0.375, 0.5 cents -> fee 0, 0, 0, 1 cent (half up).
    fee_terms = terms(fee="12.5")
    assert [fee_terms.refund_of(usd(n), LATE)[1] for n in (1, 2, 3, 4)] == [
        usd(1),
        usd(2),
        usd(3),
        usd(3),
    ]
    assert terms(fee="20").refund_of(Money(999, "jpy"), LATE)[1] == Money(799, "jpy")


@pytest.mark.parametrize(
    "fee", [Decimal("-1"), Decimal("100.01"), Decimal("NaN"), 20, Decimal("12.345")]
)
def test_a_late_fee_outside_0_to_100_percent_is_refused(fee: Decimal) -> None:
    with pytest.raises(InvalidAmount):
        RefundTerms(cutoff_at=CUTOFF, starts_at=STARTS, late_fee_percent=fee)


def test_terms_need_aware_instants() -> None:
    with pytest.raises(ValueError, match="starts_at"):
        RefundTerms(cutoff_at=None, starts_at=datetime(2027, 4, 10))
    with pytest.raises(ValueError, match="cutoff_at"):
        RefundTerms(cutoff_at=datetime(2027, 4, 1), starts_at=STARTS)


def test_summaries_state_the_published_terms() -> None:
    assert "ask the organizer" in terms(cutoff=None).summary()
    assert terms(fee=None).summary() == f"Full refund before {CUTOFF.isoformat()}; no refund after."
    assert "12.5 % late-withdrawal fee" in terms(fee="12.50").summary()
    assert "20 % late-withdrawal fee" in terms(fee="20").summary()


def test_an_event_carries_its_terms_and_checks_them() -> None:
    event = make_event(refund_cutoff_at=CUTOFF, late_refund_fee_percent=Decimal("10"))
    assert event.refund_terms == RefundTerms(CUTOFF, event.starts_at, Decimal("10"))
    with pytest.raises(InvalidAmount):
        make_event(refund_cutoff_at=CUTOFF, late_refund_fee_percent=Decimal("101"))


def test_a_quote_applies_each_events_terms_to_its_share_of_the_total() -> None:
    open_terms = terms()
    strict = terms(fee=None)
    # Total 10.30 (lines 5.00 + 5.00 and a 0.30 buyer fee) shared 5.15 / 5.15.
    quote = quote_refund(
        total=usd(1030),
        lines=[("spring", usd(500), open_terms), ("summer", usd(500), strict)],
        returned=usd(0),
        held=usd(1030),
        now=LATE,
    )
    assert [(line.event_id, line.share, line.rule, line.refundable) for line in quote.lines] == [
        ("spring", usd(515), RefundRule.LATE_WITH_FEE, usd(412)),
        ("summer", usd(515), RefundRule.NONE_AFTER_CUTOFF, usd(0)),
    ]
    assert quote.by_terms == usd(412)
    assert quote.refundable == usd(412)
    assert quote.kept == usd(618)
    assert quote.rule is None  # mixed
    assert quote.lines[0].kept == usd(103)


def test_a_quote_takes_off_what_went_back_and_never_exceeds_what_is_held() -> None:
    lines = [("spring", usd(5000), terms())]
    partly = quote_refund(
        total=usd(5000), lines=lines, returned=usd(1500), held=usd(3500), now=BEFORE
    )
    assert partly.refundable == usd(3500)
    assert partly.already_returned == usd(1500)
    assert partly.rule is RefundRule.FULL_BEFORE_CUTOFF
    unpaid = quote_refund(total=usd(5000), lines=lines, returned=usd(0), held=usd(0), now=BEFORE)
    assert unpaid.refundable == usd(0)
    overdone = quote_refund(
        total=usd(5000), lines=lines, returned=usd(6000), held=usd(10), now=BEFORE
    )
    assert overdone.refundable == usd(0)


def test_a_free_order_quotes_nothing() -> None:
    quote = quote_refund(
        total=usd(0), lines=[("spring", usd(0), terms())], returned=usd(0), held=usd(0), now=BEFORE
    )
    assert quote.refundable == usd(0)
    assert quote.lines[0].share == usd(0)


@pytest.mark.parametrize(
    ("returned", "held"),
    [(usd(-1), usd(0)), (usd(0), usd(-1)), (Money(0, "eur"), usd(0)), (usd(0), Money(0, "eur"))],
)
def test_a_quote_refuses_negative_or_foreign_amounts(returned: Money, held: Money) -> None:
    with pytest.raises(InvalidAmount):
        quote_refund(
            total=usd(100), lines=[("e", usd(100), terms())], returned=returned, held=held, now=LATE
        )


def test_a_quote_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="now"):
        quote_refund(
            total=usd(1),
            lines=[("e", usd(1), terms())],
            returned=usd(0),
            held=usd(1),
            now=datetime(2027, 1, 1),
        )


def test_a_refund_is_spread_over_payments_in_order() -> None:
    sources = [("newest", usd(300)), ("empty", usd(0)), ("older", usd(5000))]
    assert allocate_refund(usd(1000), sources) == [("newest", usd(300)), ("older", usd(700))]
    assert allocate_refund(usd(300), sources) == [("newest", usd(300))]


def test_a_refund_larger_than_the_payments_or_not_positive_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="at most"):
        allocate_refund(usd(1000), [("only", usd(999))])
    with pytest.raises(InvalidAmount, match="positive"):
        allocate_refund(usd(0), [("only", usd(999))])
    with pytest.raises(CurrencyMismatch):
        allocate_refund(usd(10), [("only", Money(999, "eur"))])


AMOUNTS = st.integers(min_value=0, max_value=100_000)


@given(
    total=AMOUNTS,
    line_amounts=st.lists(AMOUNTS, min_size=1, max_size=4),
    fee=st.decimals(min_value=0, max_value=100, places=2),
    returned=AMOUNTS,
    held=AMOUNTS,
    days_after_cutoff=st.integers(min_value=-3, max_value=20),
)
def test_a_quote_never_creates_money(
    total: int,
    line_amounts: list[int],
    fee: Decimal,
    returned: int,
    held: int,
    days_after_cutoff: int,
) -> None:
    quote = quote_refund(
        total=usd(total),
        lines=[(f"e{i}", usd(a), terms(fee=str(fee))) for i, a in enumerate(line_amounts)],
        returned=usd(returned),
        held=usd(held),
        now=CUTOFF + timedelta(days=days_after_cutoff),
    )
    shares = sum(line.share.amount for line in quote.lines)
    assert shares == (total if any(line_amounts) else 0)
    for line in quote.lines:
        assert usd(0) <= line.refundable <= line.share
    assert usd(0) <= quote.refundable <= usd(held)
    assert quote.refundable <= max(usd(0), quote.by_terms - usd(returned))
    assert quote.kept.amount == shares - quote.by_terms.amount


@given(
    amount=st.integers(min_value=1, max_value=10_000),
    available=st.lists(st.integers(min_value=0, max_value=5_000), max_size=5),
)
def test_an_allocation_returns_exactly_the_amount_or_refuses(
    amount: int, available: list[int]
) -> None:
    sources = [(f"p{i}", usd(a)) for i, a in enumerate(available)]
    if sum(available) < amount:
        with pytest.raises(InvalidAmount):
            allocate_refund(usd(amount), sources)
        return
    parts = allocate_refund(usd(amount), sources)
    assert sum(part.amount for _, part in parts) == amount
    limits = dict(sources)
    assert all(usd(0) < part <= limits[pid] for pid, part in parts)


def test_cutoff_and_start_are_compared_as_instants() -> None:
    in_berlin = CUTOFF.astimezone(ZoneInfo("Europe/Berlin"))
    local_terms = terms(cutoff=in_berlin)
    assert local_terms.rule_at(BEFORE) is RefundRule.FULL_BEFORE_CUTOFF
    assert local_terms.rule_at(CUTOFF.astimezone(UTC)) is RefundRule.LATE_WITH_FEE


def test_every_rule_explains_itself() -> None:
    descriptions = {rule: rule.description for rule in RefundRule}
    assert all(text.endswith(".") for text in descriptions.values())
    assert len(set(descriptions.values())) == len(RefundRule)


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "returned"),
    [
        (5000, 5000, 0, 0),
        (5000, 5000, 1000, 1000),  # a goodwill refund is part of the price given back
        (5000, 10000, 5000, 0),  # the duplicate charge went back: none of the price
        (5000, 10000, 6000, 1000),
        (5000, 10000, 0, 0),
        (5000, 0, 0, 0),
    ],
)
def test_only_refunds_beyond_an_overpayment_count_as_returned(
    total: int, paid: int, refunded: int, returned: int
) -> None:
    assert returned_to_buyer(total=usd(total), paid=usd(paid), refunded=usd(refunded)) == (
        usd(returned),
        usd(0),
    )


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "pending", "returned", "on_its_way"),
    [
        (5000, 5000, 0, 4000, 0, 4000),  # pending is on its way, not returned
        (5000, 5000, 1000, 2000, 1000, 2000),
        (5000, 10000, 0, 5000, 0, 0),  # the duplicate charge going back: none of the price
        (5000, 10000, 2000, 4000, 0, 1000),  # 3000 of the over-payment was still to go back
        (5000, 10000, 6000, 1000, 1000, 1000),
    ],
)
def test_pending_refunds_are_on_their_way_not_returned(
    total: int, paid: int, refunded: int, pending: int, returned: int, on_its_way: int
) -> None:
    assert returned_to_buyer(
        total=usd(total), paid=usd(paid), refunded=usd(refunded), pending=usd(pending)
    ) == (usd(returned), usd(on_its_way))


def test_money_on_its_way_back_is_not_offered_again() -> None:
    event = make_event()
    lines = [("e1", usd(5000), event.refund_terms)]
    quote = quote_refund(
        total=usd(5000),
        lines=lines,
        returned=usd(1000),
        pending=usd(1500),
        held=usd(2500),
        now=BEFORE,
    )
    assert quote.already_returned == usd(1000)
    assert quote.on_its_way == usd(1500)
    assert quote.refundable == usd(2500)
    with pytest.raises(InvalidAmount):
        quote_refund(
            total=usd(5000),
            lines=lines,
            returned=usd(0),
            pending=usd(-1),
            held=usd(0),
            now=BEFORE,
        )


def test_the_refundable_amount_is_rounded_down_to_the_providers_step() -> None:
    kwd = Money(12340, "kwd")  # 12.340 KWD; Stripe takes KWD only in steps of 10 fils
    late = quote_refund(
        total=kwd,
        lines=[("e1", kwd, terms())],
        returned=Money(0, "kwd"),
        held=kwd,
        now=LATE,
        step=10,
    )
    assert late.lines[0].refundable == Money(9872, "kwd")  # what the terms give
    assert late.refundable == Money(9870, "kwd")  # what the provider can send
    with pytest.raises(InvalidAmount, match="step"):
        quote_refund(total=kwd, lines=[], returned=Money(0, "kwd"), held=kwd, now=BEFORE, step=0)
