"""Sample catalog for the demo and the self-test: one organizer, three events.

Dates are relative to `now` so the demo is meaningful whenever it runs: one event is open with
an early-bird price still active, one opens later, one has closed. The later one has a platform
fee policy of its own (`SUMMER_FEE_POLICY`); the others are charged the platform's, so the
orders the demo and the self-test place on the open event are priced as they always were. The
ids live in `sample_ids`, which the black-box self-test may import; this module reaches the
services and it may not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from eventpay.domain import CompetitionClass, Event, FeePayer, FeePolicy, Money, Organizer
from eventpay.ports import UnitOfWorkFactory
from eventpay.sample_ids import (
    CLOSED_EVENT,
    LATER_EVENT,
    MEMBER_ID,
    NON_MEMBER_ID,
    OPEN_EVENT,
    ORGANIZER_ID,
)
from eventpay.services import catalog

__all__ = ["MEMBER_ID", "NON_MEMBER_ID", "ORGANIZER", "SUMMER_FEE_POLICY", "sample_events", "seed"]

ORGANIZER = Organizer(id=ORGANIZER_ID, name="Bassline Events LLC")

# A partner rate negotiated for one event; the organizer still pays it, so buyers' totals are the
# same as under the platform's policy and only the platform's share differs.
SUMMER_FEE_POLICY = FeePolicy(percent=Decimal("3.5"), fixed_minor=25, payer=FeePayer.ORGANIZER)


def _classes(prefix: str, early_bird_deadline: datetime | None) -> tuple[CompetitionClass, ...]:
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
            classes=_classes("summer", early_bird_deadline=None),
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


def seed(*, uow_factory: UnitOfWorkFactory, now: datetime) -> list[str]:
    """Add the sample catalog and a member; returns the ids of events added this time."""
    added = [
        event.id
        for event in sample_events(now)
        if catalog.add_event(uow_factory=uow_factory, organizer=ORGANIZER, event=event, now=now)
    ]
    catalog.grant_membership(
        uow_factory=uow_factory,
        user_id=MEMBER_ID,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=365),
    )
    return added
