"""Promo codes: their one spelling, the terms an organizer may set, the window, and the split of
a discount over an order's lines (exact to the minor unit, never above a line)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money, QuoteLine
from eventpay.domain.errors import (
    CurrencyMismatch,
    DomainError,
    InvalidPromoCode,
    PromoCodeExpired,
    PromoCodeLimitReached,
    PromoCodeNotApplicable,
    PromoCodeNotYetValid,
    PromoCodeUsedUp,
    PromoError,
    PromoRefused,
    UnknownPromoCode,
)
from eventpay.domain.pricing import LineKind
from eventpay.domain.promotions import (
    MAX_LIMIT,
    PromoTerms,
    allocate_discount,
    check_window,
    discountable_kinds,
    normalize_code,
    percent_from_bps,
)

T0 = datetime(2027, 3, 1, 12, tzinfo=UTC)
EVENT = "spring"


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def line(amount: int, *, event_id: str | None = EVENT, kind: str = "registration") -> QuoteLine:
    return QuoteLine(
        kind=kind, description=f"{kind} {amount}", amount=usd(amount), event_id=event_id
    )


def percent(value: str) -> PromoTerms:
    return PromoTerms(percent_off=Decimal(value))


# ------------------------------------------------------------------ codes


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(" spring-10 ", "SPRING-10"), ("vip_2027", "VIP_2027"), ("abc", "ABC"), ("A" * 64, "A" * 64)],
)
def test_a_code_has_one_spelling(raw: str, stored: str) -> None:
    assert normalize_code(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", "ab", "A" * 65, "with space", "10%OFF", "\u0131" * 4, "ǅemo", "  ", "émile"],
)
def test_a_code_outside_the_alphabet_is_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidPromoCode) as refused:
        normalize_code(raw)
    assert refused.value.code == "invalid_promo_code"
    assert refused.value.details == {"field": "code"}


# ------------------------------------------------------------------ terms


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({}, "percent_off"),
        ({"percent_off": Decimal(10), "amount_off": usd(100)}, "percent_off"),
        ({"percent_off": Decimal(0)}, "percent_off"),
        ({"percent_off": Decimal("-5")}, "percent_off"),
        ({"percent_off": Decimal("100.01")}, "percent_off"),
        ({"percent_off": Decimal("12.345")}, "percent_off"),
        ({"percent_off": Decimal("NaN")}, "percent_off"),
        ({"percent_off": Decimal("Infinity")}, "percent_off"),
        ({"percent_off": 10}, "percent_off"),
        ({"amount_off": usd(0)}, "amount_off"),
        ({"amount_off": usd(-100)}, "amount_off"),
        ({"amount_off": usd(10**12 + 1)}, "amount_off"),
        ({"percent_off": Decimal(5), "applies_to": "fee"}, "applies_to"),
        ({"percent_off": Decimal(5), "applies_to": "registraton"}, "applies_to"),
        ({"percent_off": Decimal(5), "valid_from": T0, "valid_until": T0}, "valid_until"),
        (
            {"percent_off": Decimal(5), "valid_from": T0, "valid_until": T0 - timedelta(1)},
            "valid_until",
        ),
        ({"percent_off": Decimal(5), "max_uses": 0}, "max_uses"),
        ({"percent_off": Decimal(5), "max_uses": -1}, "max_uses"),
        ({"percent_off": Decimal(5), "max_uses": True}, "max_uses"),
        ({"percent_off": Decimal(5), "max_uses": MAX_LIMIT + 1}, "max_uses"),
        ({"percent_off": Decimal(5), "max_uses_per_buyer": 0}, "max_uses_per_buyer"),
    ],
)
def test_terms_that_could_not_be_honoured_are_refused_naming_the_field(
    terms: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidPromoCode) as refused:
        PromoTerms(**terms)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_good_terms_are_kept_and_the_percentage_is_exact_in_basis_points() -> None:
    terms = PromoTerms(
        percent_off=Decimal("12.5"),
        applies_to="registration",
        valid_from=T0,
        valid_until=T0 + timedelta(days=1),
        max_uses=MAX_LIMIT,
        max_uses_per_buyer=1,
    )
    assert terms.percent_off_bps == 1250
    assert percent("100").percent_off_bps == 10_000
    assert percent("0.01").percent_off_bps == 1
    assert PromoTerms(amount_off=usd(500)).percent_off_bps is None
    assert percent_from_bps(1250) == Decimal("12.5")
    assert str(percent_from_bps(1500)) == "15"
    assert "registration" in discountable_kinds()
    assert "fee" not in discountable_kinds()


def test_a_naive_datetime_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(ValueError, match="valid_from"):
        PromoTerms(percent_off=Decimal(5), valid_from=datetime(2027, 1, 1))
    with pytest.raises(ValueError, match="now"):
        check_window(percent("5"), datetime(2027, 1, 1))


def test_the_window_opens_at_valid_from_and_closes_at_valid_until() -> None:
    terms = PromoTerms(percent_off=Decimal(5), valid_from=T0, valid_until=T0 + timedelta(hours=1))
    with pytest.raises(PromoCodeNotYetValid) as early:
        check_window(terms, T0 - timedelta(microseconds=1), code="SPRING")
    assert (early.value.code, early.value.details) == (
        "promo_code_not_yet_valid",
        {"promo_code": "SPRING"},
    )
    check_window(terms, T0)
    check_window(terms, T0 + timedelta(minutes=59))
    with pytest.raises(PromoCodeExpired) as late:
        check_window(terms, T0 + timedelta(hours=1), code="SPRING")
    assert late.value.code == "promo_code_expired"
    check_window(percent("5"), T0)


@pytest.mark.parametrize(
    ("error", "parent", "code"),
    [
        (PromoError, DomainError, "promo_error"),
        (InvalidPromoCode, PromoError, "invalid_promo_code"),
        (PromoRefused, PromoError, "promo_refused"),
        (UnknownPromoCode, PromoRefused, "unknown_promo_code"),
        (PromoCodeNotYetValid, PromoRefused, "promo_code_not_yet_valid"),
        (PromoCodeExpired, PromoRefused, "promo_code_expired"),
        (PromoCodeNotApplicable, PromoRefused, "promo_code_not_applicable"),
        (PromoCodeUsedUp, PromoRefused, "promo_code_used_up"),
        (PromoCodeLimitReached, PromoRefused, "promo_code_limit_reached"),
    ],
)
def test_the_promo_errors_are_the_documented_tree(
    error: type[DomainError], parent: type[DomainError], code: str
) -> None:
    assert error.__bases__ == (parent,)
    assert error.code == code
    if issubclass(error, PromoRefused):
        refused = error("SPRING")
        assert refused.details == {"promo_code": "SPRING"}
        assert "SPRING" in str(refused)


# ------------------------------------------------------------------ allocation, by example


def test_a_percentage_is_rounded_once_half_up_on_the_eligible_sum() -> None:
    # 3 x 333 = 999; 12.5 % = 124.875 -> 125, spread 42 / 42 / 41 by largest remainder.
    lines = [line(333), line(333), line(333)]
    shares = allocate_discount(terms=percent("12.5"), lines=lines, event_id=EVENT)
    assert [s.amount for s in shares] == [42, 42, 41]
    # Per line it would be 41.625 -> 42 each, 126: the one rounding is on the sum.
    # 0.5 rounds away from zero: 10 % of 5 = 0.5 -> 1.
    assert allocate_discount(terms=percent("10"), lines=[line(5)], event_id=EVENT) == (usd(1),)


def test_other_events_other_kinds_fee_and_free_lines_get_nothing() -> None:
    lines = [
        line(4000),
        line(2500, event_id="summer"),
        line(1000, kind="merchandise"),
        line(300, kind="fee"),
        line(0),
        line(1000, event_id=None),
    ]
    terms = PromoTerms(percent_off=Decimal(50), applies_to="registration")
    shares = allocate_discount(terms=terms, lines=lines, event_id=EVENT)
    assert [s.amount for s in shares] == [2000, 0, 0, 0, 0, 0]


def test_a_fixed_amount_is_capped_at_the_eligible_sum() -> None:
    lines = [line(1500), line(500), line(9999, event_id="summer")]
    terms = PromoTerms(amount_off=usd(5000))
    shares = allocate_discount(terms=terms, lines=lines, event_id=EVENT)
    assert [s.amount for s in shares] == [1500, 500, 0]
    small = allocate_discount(terms=PromoTerms(amount_off=usd(100)), lines=lines, event_id=EVENT)
    assert [s.amount for s in small] == [75, 25, 0]


def test_no_eligible_line_is_not_applicable() -> None:
    with pytest.raises(PromoCodeNotApplicable) as refused:
        allocate_discount(
            terms=PromoTerms(percent_off=Decimal(10), applies_to="registration"),
            lines=[line(1000, event_id="summer"), line(0), line(300, kind="fee")],
            event_id=EVENT,
            code="SPRING",
        )
    assert refused.value.details == {"promo_code": "SPRING"}


def test_a_fixed_amount_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        allocate_discount(
            terms=PromoTerms(amount_off=Money(100, "eur")), lines=[line(1000)], event_id=EVENT
        )


# ------------------------------------------------------------------ allocation, properties

KINDS = st.sampled_from(["registration", "merchandise", "fee"])
EVENTS = st.sampled_from([EVENT, "summer", None])
LINES = st.lists(
    st.builds(
        lambda amount, event_id, kind: line(amount, event_id=event_id, kind=kind),
        st.integers(min_value=0, max_value=10**9),
        EVENTS,
        KINDS,
    ),
    min_size=1,
    max_size=12,
)
PERCENT_TERMS = st.builds(
    lambda bps, kind: PromoTerms(percent_off=Decimal(bps) / 100, applies_to=kind),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from([None, "registration"]),
)
AMOUNT_TERMS = st.builds(
    lambda amount, kind: PromoTerms(amount_off=usd(amount), applies_to=kind),
    st.integers(min_value=1, max_value=10**10),
    st.sampled_from([None, "registration"]),
)


def _eligible(item: QuoteLine, terms: PromoTerms) -> bool:
    return (
        item.event_id == EVENT
        and item.kind != LineKind.FEE
        and terms.applies_to in (None, item.kind)
        and item.amount.amount > 0
    )


@given(terms=st.one_of(PERCENT_TERMS, AMOUNT_TERMS), lines=LINES)
def test_the_split_is_exact_bounded_by_each_line_and_zero_elsewhere(
    terms: PromoTerms, lines: list[QuoteLine]
) -> None:
    eligible = [_eligible(item, terms) for item in lines]
    if not any(eligible):
        with pytest.raises(PromoCodeNotApplicable):
            allocate_discount(terms=terms, lines=lines, event_id=EVENT)
        return
    shares = allocate_discount(terms=terms, lines=lines, event_id=EVENT)
    assert len(shares) == len(lines)
    base = sum(item.amount.amount for item, ok in zip(lines, eligible, strict=True) if ok)
    if terms.percent_off is not None:
        # Half-up on the exact product, in integers: floor((2 * base * bps + 10000) / 20000).
        bps = terms.percent_off_bps
        assert bps is not None
        expected = (2 * base * bps + 10_000) // 20_000
    else:
        assert terms.amount_off is not None
        expected = min(terms.amount_off.amount, base)
    assert sum(s.amount for s in shares) == expected
    for share, item, ok in zip(shares, lines, eligible, strict=True):
        assert share.currency == item.amount.currency
        assert 0 <= share.amount <= (item.amount.amount if ok else 0)
    assert allocate_discount(terms=terms, lines=lines, event_id=EVENT) == shares


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=8),
    bps=st.integers(min_value=1, max_value=10_000),
)
def test_shares_follow_the_line_amounts(amounts: list[int], bps: int) -> None:
    # Largest remainder: each share is its exact proportional part, floored or raised by one.
    terms = PromoTerms(percent_off=Decimal(bps) / 100)
    shares = allocate_discount(terms=terms, lines=[line(a) for a in amounts], event_id=EVENT)
    total = sum(s.amount for s in shares)
    whole = sum(amounts)
    for share, amount in zip(shares, amounts, strict=True):
        floor = total * amount // whole
        assert share.amount in (floor, floor + 1)


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_a_validity_in_a_distant_year_is_refused_naming_it(field: str) -> None:
    far = datetime(9999, 12, 31, 23, tzinfo=UTC)
    with pytest.raises(InvalidPromoCode) as refused:
        PromoTerms(percent_off=Decimal(5), **{field: far})
    assert refused.value.details["field"] == field
