"""The catalog set-up rules: each broken rule names its field; good drafts become events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.domain.catalog import MAX_CAPACITY
from eventpay.domain.catalog_rules import (
    MAX_PRICE_MINOR,
    ClassDraft,
    EventDraft,
    Price,
    Problem,
    build_event,
    changes,
    class_changes,
    draft_of,
    max_price,
    problems,
)

from .builders import CLOSES, EARLY_BIRD_DEADLINE, OPENS, STARTS


def spl(**overrides: Any) -> ClassDraft:
    base = ClassDraft(
        id="spl",
        code="SPL",
        name="Sound Pressure",
        member_price=Price(4000),
        non_member_price=Price(5000, "USD"),
        early_bird_price=Price(3500),
        early_bird_deadline=EARLY_BIRD_DEADLINE,
        capacity=50,
    )
    return replace(base, **overrides)


def sq(**overrides: Any) -> ClassDraft:
    return replace(spl(id="sq", code="SQ", name="Sound Quality", capacity=None), **overrides)


def draft(**overrides: Any) -> EventDraft:
    base = EventDraft(
        id="spring-2027",
        organizer_id="org-1",
        name="Spring Sound-Off",
        timezone="America/Chicago",
        currency="usd",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(days=1),
        registration_opens_at=OPENS,
        registration_closes_at=CLOSES,
        refund_cutoff_at=CLOSES - timedelta(days=7),
        late_refund_fee_percent=Decimal("20"),
        classes=(spl(), sq()),
    )
    return replace(base, **overrides)


def fields_of(d: EventDraft) -> list[str]:
    return [p.field for p in problems(d)]


def test_a_sound_draft_has_no_problems_and_builds_the_event() -> None:
    good = draft()

    assert problems(good) == []
    event = build_event(good, payout_reserve_days=3)
    assert event.class_by_id("spl").non_member_price == Money(5000, "usd")
    assert event.class_by_id("spl").capacity == 50
    assert event.class_by_id("sq").capacity is None
    assert event.payout_reserve_days == 3
    assert draft_of(event).classes[0].non_member_price == Price(5000)


def test_the_draft_of_an_event_builds_the_same_event() -> None:
    event = build_event(draft())

    assert build_event(draft_of(event)) == event
    assert problems(draft_of(event)) == []


def test_building_needs_every_id() -> None:
    assert problems(draft(id=None, classes=(spl(id=None),))) == []
    with pytest.raises(ValueError, match="id"):
        build_event(draft(id=None))
    with pytest.raises(ValueError, match="id"):
        build_event(draft(organizer_id=None))
    with pytest.raises(ValueError, match="id"):
        build_event(draft(classes=(spl(id=None),)))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": "Not A Slug"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"name": "  "}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "America"}, "timezone"),
        ({"currency": "xyz"}, "currency"),
        ({"ends_at": STARTS - timedelta(hours=1)}, "ends_at"),
        ({"registration_closes_at": OPENS}, "registration_closes_at"),
        ({"registration_closes_at": STARTS + timedelta(minutes=1)}, "registration_closes_at"),
        ({"refund_cutoff_at": STARTS + timedelta(minutes=1)}, "refund_cutoff_at"),
        ({"late_refund_fee_percent": Decimal("100.5")}, "late_refund_fee_percent"),
        ({"late_refund_fee_percent": Decimal("-1")}, "late_refund_fee_percent"),
        ({"late_refund_fee_percent": Decimal("12.345")}, "late_refund_fee_percent"),
        ({"late_refund_fee_percent": Decimal("NaN")}, "late_refund_fee_percent"),
        ({"starts_at": STARTS.replace(tzinfo=None)}, "starts_at"),
    ],
)
def test_each_event_rule_names_its_field(overrides: dict[str, Any], field: str) -> None:
    assert fields_of(draft(**overrides)) == [field]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"id": "SPL!"}, "classes[1].id"),
        ({"id": "spl"}, "classes[1].id"),
        ({"code": "spl"}, "classes[1].code"),
        ({"code": " "}, "classes[1].code"),
        ({"name": ""}, "classes[1].name"),
        ({"member_price": Price(-1)}, "classes[1].member_price"),
        ({"non_member_price": Price(MAX_PRICE_MINOR + 1)}, "classes[1].non_member_price"),
        ({"additional_class_price": Price(100, "eur")}, "classes[1].additional_class_price"),
        ({"early_bird_price": None}, "classes[1].early_bird_price"),
        ({"early_bird_deadline": None}, "classes[1].early_bird_deadline"),
        ({"early_bird_deadline": STARTS + timedelta(days=1)}, "classes[1].early_bird_deadline"),
        ({"early_bird_deadline": OPENS - timedelta(days=1)}, "classes[1].early_bird_deadline"),
        (
            {"early_bird_deadline": EARLY_BIRD_DEADLINE.replace(tzinfo=None)},
            "classes[1].early_bird_deadline",
        ),
        ({"capacity": -1}, "classes[1].capacity"),
        ({"capacity": MAX_CAPACITY + 1}, "classes[1].capacity"),
    ],
)
def test_each_class_rule_names_the_class_and_field(broken: dict[str, Any], field: str) -> None:
    assert fields_of(draft(classes=(spl(), sq(**broken)))) == [field]


def test_the_price_cap_follows_the_currency_exponent() -> None:
    assert max_price("USD") == Money(MAX_PRICE_MINOR, "usd")
    assert max_price("jpy") == Money(100_000, "jpy")
    assert max_price("kwd") == Money(100_000_000, "kwd")
    at_cap = sq(member_price=Price(MAX_PRICE_MINOR), capacity=MAX_CAPACITY)
    assert problems(draft(classes=(at_cap,))) == []
    yen = draft(
        currency="jpy", classes=(sq(member_price=Price(100_001), non_member_price=Price(1)),)
    )
    assert fields_of(yen) == ["classes[0].member_price"]


def test_an_unknown_currency_is_named_once_not_on_every_price() -> None:
    assert fields_of(draft(currency="xyz", classes=(sq(non_member_price=Price(5000)),))) == [
        "currency"
    ]


def test_naive_instants_stop_the_comparisons_that_need_them() -> None:
    naive = draft(
        registration_opens_at=OPENS.replace(tzinfo=None),
        classes=(spl(),),
    )
    assert fields_of(naive) == ["registration_opens_at"]
    naive_start = draft(starts_at=STARTS.replace(tzinfo=None), classes=(spl(),))
    assert fields_of(naive_start) == ["starts_at"]


def test_problem_fields_read_like_the_request() -> None:
    assert Problem(("classes", 2, "member_price"), "x").field == "classes[2].member_price"
    assert Problem(("timezone",), "x").field == "timezone"
    assert Problem((), "x").field == ""


def test_changes_list_each_changed_field_before_and_after() -> None:
    old = build_event(draft())
    moved = STARTS + timedelta(days=7)
    new = build_event(
        draft(
            name="Spring Sound-Off (moved)",
            starts_at=moved,
            ends_at=None,
            classes=(
                spl(member_price=Price(4500), capacity=60),
                ClassDraft(
                    id="bass",
                    code="BR",
                    name="Bass Race",
                    member_price=Price(1),
                    non_member_price=Price(2),
                ),
            ),
        )
    )

    assert changes(old, new) == {
        "name": ("Spring Sound-Off", "Spring Sound-Off (moved)"),
        "starts_at": (STARTS, moved),
        "ends_at": (STARTS + timedelta(days=1), None),
    }
    diff = class_changes(old.classes, new.classes)
    assert [c.id for c in diff.added] == ["bass"]
    assert [c.id for c in diff.removed] == ["sq"]
    assert diff.updated == {
        "spl": {
            "member_price": (Money(4000, "usd"), Money(4500, "usd")),
            "capacity": (50, 60),
        }
    }
    assert diff
    assert not class_changes(old.classes, old.classes)
    assert changes(old, old) == {}


def test_an_instant_in_a_distant_year_is_refused_naming_it() -> None:
    far = datetime(9999, 12, 30, tzinfo=UTC)
    assert fields_of(draft(starts_at=far)) == ["starts_at"]
