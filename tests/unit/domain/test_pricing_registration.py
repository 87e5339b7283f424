"""Registration pricing: best price per class, the entry class, additional classes, order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import (
    CompetitionClass,
    DuplicateClass,
    Money,
    NoClassesSelected,
    PriceRule,
    QuoteLine,
    RegistrationClosed,
    UnknownClass,
    price_registration,
    unit_price,
)

from .builders import (
    AFTER_EARLY_BIRD,
    CLOSES,
    DURING_EARLY_BIRD,
    EARLY_BIRD_DEADLINE,
    OPENS,
    make_class,
    make_event,
    usd,
)

TICK = timedelta(microseconds=1)

SPL = make_class("spl", member=4000, non_member=5000, additional=2500, early_bird=3500)
SQ = make_class("sq", member=3000, non_member=3500, additional=1500)
BASS_RACE = make_class("bass_race", code="BASS", member=2500, non_member=3000)
EVENT = make_event(SPL, SQ, BASS_RACE)


def price(*class_ids: str, is_member: bool = True, now: datetime = AFTER_EARLY_BIRD) -> list[int]:
    lines = price_registration(event=EVENT, class_ids=class_ids, is_member=is_member, now=now)
    return [line.amount.amount for line in lines]


def test_member_and_non_member_prices() -> None:
    assert price("sq", is_member=True) == [3000]
    assert price("sq", is_member=False) == [3500]


def test_single_class_line_carries_its_context() -> None:
    (line,) = price_registration(
        event=EVENT, class_ids=["spl"], is_member=False, now=AFTER_EARLY_BIRD
    )
    assert line == QuoteLine(
        kind="registration",
        description="Spring Sound-Off 2027 — SPL (non-member)",
        amount=usd(5000),
        event_id="evt_1",
        class_id="spl",
        price_rule=PriceRule.NON_MEMBER,
    )


@pytest.mark.parametrize(
    ("now", "is_member", "expected", "rule"),
    [
        (EARLY_BIRD_DEADLINE - TICK, True, 3500, PriceRule.EARLY_BIRD),
        (EARLY_BIRD_DEADLINE - TICK, False, 3500, PriceRule.EARLY_BIRD),
        (EARLY_BIRD_DEADLINE, True, 4000, PriceRule.MEMBER),
        (EARLY_BIRD_DEADLINE, False, 5000, PriceRule.NON_MEMBER),
        (EARLY_BIRD_DEADLINE + TICK, True, 4000, PriceRule.MEMBER),
    ],
)
def test_early_bird_applies_strictly_before_its_deadline(
    now: datetime, is_member: bool, expected: int, rule: PriceRule
) -> None:
    assert unit_price(SPL, is_member=is_member, now=now) == (usd(expected), rule)


def test_early_bird_is_only_used_when_it_is_cheaper() -> None:
    # A member price below the early-bird price stays the member price: best price wins.
    spl = make_class("spl", member=3000, non_member=5000, early_bird=3500)
    assert unit_price(spl, is_member=True, now=DURING_EARLY_BIRD) == (usd(3000), PriceRule.MEMBER)
    assert unit_price(spl, is_member=False, now=DURING_EARLY_BIRD) == (
        usd(3500),
        PriceRule.EARLY_BIRD,
    )
    same = make_class("sq", member=3500, non_member=5000, early_bird=3500)
    assert unit_price(same, is_member=True, now=DURING_EARLY_BIRD)[1] is PriceRule.MEMBER


def test_early_bird_descriptions_name_membership_and_early_bird() -> None:
    lines = price_registration(
        event=EVENT, class_ids=["spl"], is_member=True, now=DURING_EARLY_BIRD
    )
    assert lines[0].description == "Spring Sound-Off 2027 — SPL (member, early bird)"
    assert lines[0].price_rule is PriceRule.EARLY_BIRD


def test_multi_class_keeps_the_buyers_order_and_charges_the_top_class_in_full() -> None:
    lines = price_registration(
        event=EVENT, class_ids=["sq", "bass_race", "spl"], is_member=True, now=AFTER_EARLY_BIRD
    )
    assert [line.class_id for line in lines] == ["sq", "bass_race", "spl"]
    assert [line.amount for line in lines] == [usd(1500), usd(2500), usd(4000)]
    assert [line.price_rule for line in lines] == [
        PriceRule.ADDITIONAL_CLASS,
        PriceRule.MEMBER,  # no additional-class price: full unit price
        PriceRule.MEMBER,
    ]
    assert [line.description for line in lines] == [
        "Spring Sound-Off 2027 — SQ (additional class)",
        "Spring Sound-Off 2027 — BASS (member)",
        "Spring Sound-Off 2027 — SPL (member)",
    ]


def test_entry_is_chosen_by_unit_price_after_early_bird() -> None:
    # During early bird SPL costs 3500 and SQ (non-member) 3500 too: a tie, the first given
    # (SQ) is the entry and SPL is the additional class.
    lines = price_registration(
        event=EVENT, class_ids=["sq", "spl"], is_member=False, now=DURING_EARLY_BIRD
    )
    assert [line.amount for line in lines] == [usd(3500), usd(2500)]
    assert [line.price_rule for line in lines] == [
        PriceRule.NON_MEMBER,
        PriceRule.ADDITIONAL_CLASS,
    ]
    reversed_lines = price_registration(
        event=EVENT, class_ids=["spl", "sq"], is_member=False, now=DURING_EARLY_BIRD
    )
    assert [line.amount for line in reversed_lines] == [usd(3500), usd(1500)]


def test_additional_price_never_exceeds_the_unit_price() -> None:
    pricey_extra = make_class("sq", member=1000, non_member=1000, additional=1200)
    equal_extra = make_class("bass", member=1000, non_member=1000, additional=1000)
    event = make_event(make_class("spl"), pricey_extra, equal_extra)
    lines = price_registration(
        event=event, class_ids=["spl", "sq", "bass"], is_member=True, now=AFTER_EARLY_BIRD
    )
    assert [(line.amount.amount, line.price_rule) for line in lines] == [
        (4000, PriceRule.MEMBER),
        (1000, PriceRule.MEMBER),
        (1000, PriceRule.ADDITIONAL_CLASS),
    ]


def test_the_entry_class_is_never_charged_its_additional_price() -> None:
    assert price("spl") == [4000]


@pytest.mark.parametrize(("now", "reason"), [(OPENS - TICK, "not_yet_open"), (CLOSES, "closed")])
def test_closed_window_is_refused_before_anything_else(now: datetime, reason: str) -> None:
    with pytest.raises(RegistrationClosed) as raised:
        price_registration(event=EVENT, class_ids=[], is_member=True, now=now)
    assert raised.value.reason == reason


def test_window_open_at_its_first_instant() -> None:
    assert price("sq", now=OPENS) == [3000]


def test_no_classes_selected() -> None:
    with pytest.raises(NoClassesSelected):
        price()


def test_duplicate_class_is_refused_even_if_unknown_ones_follow() -> None:
    with pytest.raises(DuplicateClass) as raised:
        price("sq", "spl", "sq", "nope")
    assert raised.value.class_id == "sq"


def test_unknown_class() -> None:
    with pytest.raises(UnknownClass) as raised:
        price("sq", "nope")
    assert raised.value.class_id == "nope"


def test_a_single_string_is_not_a_list_of_ids() -> None:
    with pytest.raises(TypeError, match="single string"):
        price_registration(event=EVENT, class_ids="spl", is_member=True, now=AFTER_EARLY_BIRD)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        price("sq", now=datetime(2027, 2, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        unit_price(SPL, is_member=True, now=datetime(2027, 2, 1))


PRICES = st.integers(min_value=0, max_value=20_000)


@st.composite
def competition_classes(draw: st.DrawFn, class_id: str) -> CompetitionClass:
    early_bird = draw(st.none() | PRICES)
    return make_class(
        class_id,
        member=draw(PRICES),
        non_member=draw(PRICES),
        additional=draw(st.none() | PRICES),
        early_bird=early_bird,
        deadline=EARLY_BIRD_DEADLINE,
    )


@st.composite
def selections(draw: st.DrawFn) -> tuple[list[CompetitionClass], list[str]]:
    ids = [f"c{index}" for index in range(draw(st.integers(min_value=1, max_value=6)))]
    classes = [draw(competition_classes(class_id)) for class_id in ids]
    chosen = draw(
        st.permutations(ids).flatmap(lambda p: st.integers(1, len(p)).map(lambda n: p[:n]))
    )
    return classes, list(chosen)


NOW_NEAR_DEADLINE = st.integers(min_value=-3, max_value=3).map(
    lambda offset: EARLY_BIRD_DEADLINE + offset * TICK
)


@given(selection=selections(), is_member=st.booleans(), now=NOW_NEAR_DEADLINE)
def test_pricing_invariants(
    selection: tuple[list[CompetitionClass], list[str]], is_member: bool, now: datetime
) -> None:
    classes, chosen = selection
    event = make_event(*classes)
    lines = price_registration(event=event, class_ids=chosen, is_member=is_member, now=now)
    by_id = {item.id: item for item in classes}
    units = [unit_price(by_id[class_id], is_member=is_member, now=now)[0] for class_id in chosen]

    assert [line.class_id for line in lines] == chosen
    assert all(line.kind == "registration" and line.event_id == event.id for line in lines)
    for line, unit in zip(lines, units, strict=True):
        item = by_id[line.class_id or ""]
        base = item.member_price if is_member else item.non_member_price
        assert Money.zero("usd") <= line.amount <= unit <= base
        if line.price_rule is PriceRule.EARLY_BIRD:
            assert now < EARLY_BIRD_DEADLINE
            assert line.amount == item.early_bird_price
            assert line.amount < base
        if line.price_rule is PriceRule.ADDITIONAL_CLASS:
            assert line.amount == item.additional_class_price
            assert "(additional class)" in line.description
    if now >= EARLY_BIRD_DEADLINE:
        assert all(line.price_rule is not PriceRule.EARLY_BIRD for line in lines)
    highest = max(unit.amount for unit in units)
    entry = next(index for index, unit in enumerate(units) if unit.amount == highest)
    for index, (line, unit) in enumerate(zip(lines, units, strict=True)):
        additional = by_id[chosen[index]].additional_class_price
        if index == entry or additional is None:
            assert line.amount == unit
            assert line.price_rule is not PriceRule.ADDITIONAL_CLASS
        else:
            assert line.amount == min(additional, unit)
