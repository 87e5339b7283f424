"""Catalog values: what a valid event and class look like, and the registration window."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from eventpay.domain import (
    CompetitionClass,
    CurrencyMismatch,
    DuplicateClass,
    InvalidAmount,
    Money,
    Organizer,
    RegistrationClosed,
    RegistrationWindow,
    UnknownClass,
    UnknownCurrency,
)

from .builders import CLOSES, OPENS, make_class, make_event, usd

TICK = timedelta(microseconds=1)


def test_organizer_is_a_frozen_value() -> None:
    organizer = Organizer(id="org_1", name="Bass Club")
    assert organizer == Organizer(id="org_1", name="Bass Club")
    with pytest.raises(dataclasses.FrozenInstanceError):
        organizer.name = "Other"  # type: ignore[misc]


def test_class_lists_its_prices_and_currency() -> None:
    spl = make_class(member=4000, non_member=5000, additional=2000, early_bird=3500)
    assert spl.currency == "usd"
    assert spl.prices() == (usd(4000), usd(5000), usd(2000), usd(3500))
    assert make_class().prices() == (usd(4000), usd(5000))


def test_class_prices_must_share_one_currency() -> None:
    with pytest.raises(CurrencyMismatch):
        CompetitionClass(
            id="spl",
            code="SPL",
            name="SPL",
            member_price=usd(4000),
            non_member_price=Money(5000, "eur"),
        )


def test_class_prices_must_not_be_negative() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        make_class(additional=-1)


@pytest.mark.parametrize(
    ("early_bird", "deadline"),
    [(usd(3500), None), (None, datetime(2027, 2, 1, tzinfo=OPENS.tzinfo))],
)
def test_early_bird_price_and_deadline_come_together(
    early_bird: Money | None, deadline: datetime | None
) -> None:
    with pytest.raises(ValueError, match="together"):
        CompetitionClass(
            id="spl",
            code="SPL",
            name="SPL",
            member_price=usd(4000),
            non_member_price=usd(5000),
            early_bird_price=early_bird,
            early_bird_deadline=deadline,
        )


def test_early_bird_deadline_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_class(early_bird=3500, deadline=datetime(2027, 2, 1))


def test_event_normalises_currency_and_keeps_classes_as_a_tuple() -> None:
    event = dataclasses.replace(make_event(), currency="USD", classes=[make_class()])  # type: ignore[arg-type]
    assert event.currency == "usd"
    assert event.classes == (make_class(),)
    assert event.zone.key == "America/Chicago"


def test_event_without_classes_is_allowed() -> None:
    assert dataclasses.replace(make_event(), classes=()).classes == ()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", None])
def test_event_time_zone_must_be_an_iana_name(zone: object) -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_event(timezone=zone)  # type: ignore[arg-type]


def test_event_currency_must_be_known() -> None:
    with pytest.raises(UnknownCurrency):
        make_event(currency="xyz")


def test_event_classes_must_be_priced_in_the_event_currency() -> None:
    with pytest.raises(CurrencyMismatch):
        make_event(make_class(currency="eur"), currency="usd")


def test_event_class_ids_must_be_unique() -> None:
    with pytest.raises(DuplicateClass) as raised:
        make_event(make_class("spl"), make_class("sq"), make_class("spl"))
    assert raised.value.class_id == "spl"


@pytest.mark.parametrize("closes", [OPENS, OPENS - TICK])
def test_registration_must_open_before_it_closes(closes: datetime) -> None:
    with pytest.raises(ValueError, match="open before it closes"):
        make_event(opens=OPENS, closes=closes)


@pytest.mark.parametrize(
    "field",
    ["starts_at", "registration_opens_at", "registration_closes_at", "refund_cutoff_at"],
)
def test_event_instants_must_be_aware(field: str) -> None:
    event = make_event()
    naive = getattr(event, field).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(event, **{field: naive})


def test_refund_cutoff_is_optional() -> None:
    assert dataclasses.replace(make_event(), refund_cutoff_at=None).refund_cutoff_at is None


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (OPENS - TICK, RegistrationWindow.NOT_YET_OPEN),
        (OPENS, RegistrationWindow.OPEN),
        (CLOSES - TICK, RegistrationWindow.OPEN),
        (CLOSES, RegistrationWindow.CLOSED),
        (CLOSES + timedelta(days=30), RegistrationWindow.CLOSED),
    ],
)
def test_window_is_open_from_opens_at_until_just_before_closes_at(
    now: datetime, state: RegistrationWindow
) -> None:
    assert make_event().window_state(now) is state


def test_ensure_open_passes_inside_the_window() -> None:
    make_event().ensure_open(OPENS)


@pytest.mark.parametrize(
    ("now", "reason", "code"),
    [
        (OPENS - TICK, "not_yet_open", "registration_not_open"),
        (CLOSES, "closed", "registration_closed"),
    ],
)
def test_ensure_open_raises_with_the_reason(now: datetime, reason: str, code: str) -> None:
    with pytest.raises(RegistrationClosed) as raised:
        make_event().ensure_open(now)
    assert raised.value.reason == reason
    assert raised.value.code == code
    assert raised.value.event_id == "evt_1"


def test_window_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event().window_state(datetime(2027, 2, 1))


def test_class_by_id_finds_the_class_or_raises_unknown_class() -> None:
    sq = make_class("sq", member=3000, non_member=3500)
    event = make_event(make_class("spl"), sq)
    assert event.class_by_id("sq") is sq
    with pytest.raises(UnknownClass) as raised:
        event.class_by_id("bass_race")
    assert raised.value.class_id == "bass_race"


def test_an_event_holds_its_earnings_until_days_after_it_ends() -> None:
    event = make_event()
    assert event.ends_at is None
    assert event.payout_reserve_days == 7
    assert event.reserve_until == event.starts_at + timedelta(days=7)
    longer = dataclasses.replace(
        event, ends_at=event.starts_at + timedelta(days=2), payout_reserve_days=0
    )
    assert longer.reserve_until == event.starts_at + timedelta(days=2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at": "before"}, "ends_at is before starts_at"),
        ({"payout_reserve_days": -1}, "payout_reserve_days"),
        ({"payout_reserve_days": 366}, "payout_reserve_days"),
    ],
)
def test_bad_event_ends_and_reserves_are_refused(changes: dict[str, object], message: str) -> None:
    event = make_event()
    if changes.get("ends_at") == "before":
        changes = {"ends_at": event.starts_at - timedelta(hours=1)}
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(event, **changes)  # type: ignore[arg-type]


def test_a_naive_end_is_refused() -> None:
    event = make_event()
    with pytest.raises(ValueError, match="ends_at"):
        dataclasses.replace(event, ends_at=event.starts_at.replace(tzinfo=None) + timedelta(days=1))


@pytest.mark.parametrize("address", ["nobody", "a@b", "@x.org", "a b@x.org", "x" * 250 + "@x.org"])
def test_an_organizer_is_paid_at_an_email_address_only(address: str) -> None:
    with pytest.raises(ValueError, match="paypal_email"):
        Organizer(id="org_1", name="Bass Club", paypal_email=address)
    assert Organizer(id="org_1", name="Bass Club", paypal_email="pay@bass.club").paypal_email
