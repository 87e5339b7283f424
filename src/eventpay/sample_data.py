"""Sample catalog for the demo and the self-test: five organizers and their events.

The first organizer (Bassline) has three events. The others each run one open event and exist
for the money flows after the sale: two are paid by PayPal Payouts (one at an address the PayPal
sandbox pays, one at an `unclaimed@` address it leaves unclaimed), two start without a Stripe
connected account for the self-test to onboard.

Dates are relative to `now` so the demo is meaningful whenever it runs: one event is open with
an early-bird price still active, one opens later, one has closed. The later one has a platform
fee policy of its own (`SUMMER_FEE_POLICY`); the others are charged the platform's, so the
orders the demo and the self-test place on the open event are priced as they always were. The
ids live in `sample_ids`, which the black-box self-test may import; this module reaches the
services and it may not.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from decimal import Decimal

from eventpay.domain import CompetitionClass, Event, FeePayer, FeePolicy, Money, Organizer
from eventpay.domain.merchandise import VariantDraft
from eventpay.ports import Principal, Role, UnitOfWorkFactory
from eventpay.sample_ids import (
    CLOSED_EVENT,
    CONNECT_EVENT_A,
    CONNECT_EVENT_B,
    CONNECT_ORGANIZER_A,
    CONNECT_ORGANIZER_B,
    LATER_EVENT,
    MEMBER_ID,
    NON_MEMBER_ID,
    OPEN_EVENT,
    ORGANIZER_ID,
    PAYOUT_EVENT,
    PAYOUT_ORGANIZER_ID,
    UNCLAIMED_EVENT,
    UNCLAIMED_ORGANIZER_ID,
)
from eventpay.services import (
    catalog,
    merchandise,
    passes,
    promo_codes,
    series,
    sponsorships,
    teams,
)
from eventpay.services.errors import Conflict

__all__ = ["MEMBER_ID", "NON_MEMBER_ID", "ORGANIZER", "SUMMER_FEE_POLICY", "sample_events", "seed"]

ORGANIZER = Organizer(id=ORGANIZER_ID, name="Bassline Events LLC")
OTHER_ORGANIZERS = (
    Organizer(
        id=PAYOUT_ORGANIZER_ID,
        name="Sundown Sound Society",
        paypal_email="payouts@sundown-sound.example.com",
    ),
    Organizer(
        id=UNCLAIMED_ORGANIZER_ID,
        name="Riverside Rumble Crew",
        paypal_email="unclaimed@riverside-rumble.example.com",
    ),
    Organizer(id=CONNECT_ORGANIZER_A, name="Thunder Alley Audio"),
    Organizer(id=CONNECT_ORGANIZER_B, name="Midwest dB Drag Racing"),
)
# Each of them runs one open event: (organizer, event id, name, time zone, weeks away).
_THEIR_EVENTS = (
    (PAYOUT_ORGANIZER_ID, PAYOUT_EVENT, "Sundown Showdown", "America/Phoenix", 10),
    (UNCLAIMED_ORGANIZER_ID, UNCLAIMED_EVENT, "Riverside Rumble", "America/Chicago", 12),
    (CONNECT_ORGANIZER_A, CONNECT_EVENT_A, "Thunder Alley Throwdown", "America/New_York", 14),
    (CONNECT_ORGANIZER_B, CONNECT_EVENT_B, "Midwest dB Drag Finals", "America/Chicago", 16),
)

SUMMER_PLACES = 60
"""The later event's SPL lanes (its SQ class has half as many): a capacity buyers can see."""
SAMPLE_PROMO = promo_codes.PromoCodeInput(
    code="SUNDOWN10", percent_off=Decimal("10"), max_uses=500, max_uses_per_buyer=1
)
"""10 % off the Sundown Showdown's entries, for the first 500 buyers, once each."""

PASS_EVENT = UNCLAIMED_EVENT
"""The weekend event whose gate sells spectator passes (three days, in Chicago)."""
GATE_PLACES_PER_DAY = 300
PASSES = (("Friday only", 1500, 1), ("Friday and Saturday", 2500, 2), ("Full weekend", 3500, 3))
"""Its pass types: name, price in cents, and how many of its first days they admit to."""
VIP_PLACES = 25
VIP_PRICES = {"spring-spl": 9500, "spring-sq": 8500}
"""The open event's full VIP entry price per class: an upgrade pays the difference."""
MERCH = (
    merchandise.ProductInput(
        name="Spring Sound-Off T-shirt",
        description="Black tee with this year's lineup on the back.",
        variants=tuple(
            VariantDraft(sku=f"SSO-TEE-{size}", size=size, colour="black", price=2500, stock=40)
            for size in ("S", "M", "L", "XL")
        ),
        flat_rate=800,
        pickup=True,
    ),
    merchandise.ProductInput(
        name="Sticker pack",
        variants=(VariantDraft(sku="SSO-STICKERS", price=500),),
        pickup=True,
    ),
)
"""The open event's merchandise: shirts shipped ($8 flat) or picked up, stickers picked up."""

# A partner rate negotiated for one event; the organizer still pays it, so buyers' totals are the
# same as under the platform's policy and only the platform's share differs.
SUMMER_FEE_POLICY = FeePolicy(percent=Decimal("3.5"), fixed_minor=25, payer=FeePayer.ORGANIZER)


def _classes(
    prefix: str, early_bird_deadline: datetime | None, *, capacity: int | None = None
) -> tuple[CompetitionClass, ...]:
    def usd(amount: int) -> Money:
        return Money(amount, "usd")

    return (
        CompetitionClass(
            id=f"{prefix}-spl",
            code="SPL",
            name="SPL (Sound Pressure League)",
            member_price=usd(4500),
            non_member_price=usd(6000),
            additional_class_price=usd(2500),
            early_bird_price=usd(4000) if early_bird_deadline else None,
            early_bird_deadline=early_bird_deadline,
            capacity=capacity,
        ),
        CompetitionClass(
            id=f"{prefix}-sq",
            code="SQ",
            name="SQ (Sound Quality)",
            member_price=usd(4000),
            non_member_price=usd(5500),
            additional_class_price=usd(2000),
            early_bird_price=usd(3500) if early_bird_deadline else None,
            early_bird_deadline=early_bird_deadline,
            capacity=None if capacity is None else capacity // 2,
        ),
    )


def sample_events(now: datetime) -> list[Event]:
    # Whole hours read better in the catalog than the seed run's microseconds.
    now = now.replace(minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    spring_start = now + 140 * day
    return [
        Event(
            id=OPEN_EVENT,
            organizer_id=ORGANIZER.id,
            name=f"Spring Sound-Off {spring_start.year}",
            timezone="America/Chicago",
            currency="usd",
            starts_at=spring_start,
            registration_opens_at=now - 30 * day,
            registration_closes_at=spring_start - 7 * day,
            refund_cutoff_at=spring_start - 14 * day,
            classes=_classes("spring", early_bird_deadline=now + 60 * day),
            late_refund_fee_percent=Decimal("20"),
        ),
        Event(
            id=LATER_EVENT,
            organizer_id=ORGANIZER.id,
            name=f"Summer Bass Bash {(now + 240 * day).year}",
            timezone="America/Denver",
            currency="usd",
            starts_at=now + 240 * day,
            registration_opens_at=now + 30 * day,
            registration_closes_at=now + 230 * day,
            refund_cutoff_at=now + 220 * day,
            classes=_classes("summer", early_bird_deadline=None, capacity=SUMMER_PLACES),
            fee_policy=SUMMER_FEE_POLICY,
        ),
        Event(
            id=CLOSED_EVENT,
            organizer_id=ORGANIZER.id,
            name="Winter Warm-Up",
            timezone="America/New_York",
            currency="usd",
            starts_at=now + 5 * day,
            registration_opens_at=now - 60 * day,
            registration_closes_at=now - 1 * day,
            refund_cutoff_at=now - 10 * day,
            classes=_classes("winter", early_bird_deadline=None),
        ),
    ]


def their_events(now: datetime) -> list[Event]:
    """One open event for each of the other organizers: a weekend, registration open now."""
    now = now.replace(minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    out = []
    for organizer_id, event_id, name, zone, weeks in _THEIR_EVENTS:
        starts = now + weeks * 7 * day
        out.append(
            Event(
                id=event_id,
                organizer_id=organizer_id,
                name=f"{name} {starts.year}",
                timezone=zone,
                currency="usd",
                starts_at=starts,
                ends_at=starts + 2 * day,
                registration_opens_at=now - 7 * day,
                registration_closes_at=starts - 2 * day,
                refund_cutoff_at=starts - 14 * day,
                classes=_classes(event_id, early_bird_deadline=None),
                late_refund_fee_percent=Decimal("20"),
            )
        )
    return out


def seed(*, uow_factory: UnitOfWorkFactory, now: datetime) -> list[str]:
    """Add the sample catalog and a member; returns the ids of events added this time."""
    added = [
        event.id
        for event in sample_events(now)
        if catalog.add_event(uow_factory=uow_factory, organizer=ORGANIZER, event=event, now=now)
    ]
    organizers = {organizer.id: organizer for organizer in OTHER_ORGANIZERS}
    added += [
        event.id
        for event in their_events(now)
        if catalog.add_event(
            uow_factory=uow_factory, organizer=organizers[event.organizer_id], event=event, now=now
        )
    ]
    catalog.grant_membership(
        uow_factory=uow_factory,
        user_id=MEMBER_ID,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=365),
    )
    if PAYOUT_EVENT in added:
        _seed_promo(uow_factory, now)
        _seed_vip(uow_factory, now)
        _seed_merch(uow_factory, now)
    if PASS_EVENT in added:
        _seed_passes(uow_factory, now)
    if TEAM_EVENT in added:
        _seed_teams(uow_factory, now)
    if SERIES_EVENTS[0] in added:
        _seed_series(uow_factory, now)
    if OPEN_EVENT in added:
        _seed_sponsor_packages(uow_factory, now)
    return added


SPONSOR_PACKAGES = (
    ("title", "Title sponsor", 250_000, 1),
    ("class", "SPL class sponsor", 75_000, 4),
    ("booth", "Vendor booth", 30_000, 10),
)
"""The open event's sponsor packages: (kind, name, price in cents, how many are sold)."""


def _seed_sponsor_packages(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    for kind, name, price, quantity in SPONSOR_PACKAGES:
        sponsorships.create_package(
            uow_factory=uow_factory,
            caller=Principal(user_id="sample-data", role=Role.ADMIN),
            event_id=OPEN_EVENT,
            asked=sponsorships.PackageInput(kind=kind, name=name, price=price, quantity=quantity),
            clock=lambda: now,
        )


def _seed_promo(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    seeder = Principal(user_id="sample-data", role=Role.ADMIN)
    # Seeded with its event, which was new: a code of that name can only be left from an earlier
    # seed of a database whose event was since deleted.
    with suppress(Conflict):
        promo_codes.create_promo_code(
            uow_factory=uow_factory,
            caller=seeder,
            event_id=PAYOUT_EVENT,
            asked=SAMPLE_PROMO,
            now=now,
        )


def _seed_vip(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    passes.set_vip(
        uow_factory=uow_factory,
        caller=Principal(user_id="sample-data", role=Role.ADMIN),
        event_id=OPEN_EVENT,
        capacity=VIP_PLACES,
        prices={class_id: passes.PriceInput(amount) for class_id, amount in VIP_PRICES.items()},
        now=now,
    )


def _seed_merch(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    for product in MERCH:
        merchandise.create_product(
            uow_factory=uow_factory,
            caller=Principal(user_id="sample-data", role=Role.ADMIN),
            event_id=OPEN_EVENT,
            asked=product,
            now=now,
        )


def _seed_passes(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    seeder = Principal(user_id="sample-data", role=Role.ADMIN)
    offer = passes.set_gate_capacity(
        uow_factory=uow_factory,
        caller=seeder,
        event_id=PASS_EVENT,
        capacity=GATE_PLACES_PER_DAY,
        now=now,
    )
    days = [day.day.isoformat() for day in offer.days]
    for name, price, first_days in PASSES:
        passes.create_pass_type(
            uow_factory=uow_factory,
            caller=seeder,
            event_id=PASS_EVENT,
            asked=passes.PassInput(name, passes.PriceInput(price), days[:first_days]),
            now=now,
        )


TEAM_EVENT = CONNECT_EVENT_A
"""The weekend event with a team competition: teams of 2 to 4 enter its SQ class."""
TEAM_SETUP = teams.TeamSetup(
    class_id=f"{CONNECT_EVENT_A}-sq",
    fee_mode="per_member",
    fee=3000,
    min_members=2,
    max_members=4,
    capacity=12,
)
"""$30 per member, 12 team slots."""
SERIES_EVENTS = (OPEN_EVENT, PAYOUT_EVENT)
SERIES = series.SeriesSetup(
    name="Spring-Sundown Double",
    event_ids=SERIES_EVENTS,
    prices={"SPL": 9000, "SQ": 8000},
)
"""Both open events at a package price per class (two organizers: created by an admin)."""


def _seed_teams(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    teams.configure_teams(
        uow_factory=uow_factory,
        caller=Principal(user_id="sample-data", role=Role.ADMIN),
        event_id=TEAM_EVENT,
        asked=TEAM_SETUP,
        now=now,
    )


def _seed_series(uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    series.create_series(
        uow_factory=uow_factory,
        caller=Principal(user_id="sample-data", role=Role.ADMIN),
        asked=SERIES,
        now=now,
    )
