"""Test-data builders for the domain tests: valid catalog values with overridable fields.

Each builder returns a valid object; a test overrides only the fields its rule is about, so
what it asserts is visible in the test itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from eventpay.domain import CompetitionClass, Event, FeePolicy, Money

OPENS = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2027, 4, 1, 18, 0, tzinfo=UTC)
STARTS = datetime(2027, 4, 10, 8, 0, tzinfo=UTC)
EARLY_BIRD_DEADLINE = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
DURING_EARLY_BIRD = EARLY_BIRD_DEADLINE - timedelta(days=3)
AFTER_EARLY_BIRD = EARLY_BIRD_DEADLINE + timedelta(days=3)


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def make_class(
    class_id: str = "spl",
    *,
    code: str | None = None,
    member: int = 4000,
    non_member: int = 5000,
    additional: int | None = None,
    early_bird: int | None = None,
    deadline: datetime | None = EARLY_BIRD_DEADLINE,
    currency: str = "usd",
) -> CompetitionClass:
    """A class priced in ``currency``; early-bird deadline only when an early-bird price is."""
    return CompetitionClass(
        id=class_id,
        code=code if code is not None else class_id.upper(),
        name=f"{class_id.upper()} class",
        member_price=Money(member, currency),
        non_member_price=Money(non_member, currency),
        additional_class_price=None if additional is None else Money(additional, currency),
        early_bird_price=None if early_bird is None else Money(early_bird, currency),
        early_bird_deadline=deadline if early_bird is not None else None,
    )


def make_event(
    *classes: CompetitionClass,
    opens: datetime = OPENS,
    closes: datetime = CLOSES,
    currency: str = "usd",
    timezone: str = "America/Chicago",
    name: str = "Spring Sound-Off 2027",
    refund_cutoff_at: datetime | None = STARTS - timedelta(days=7),
    late_refund_fee_percent: Decimal | None = None,
    event_id: str = "evt_1",
    organizer_id: str = "org_1",
    fee_policy: FeePolicy | None = None,
) -> Event:
    return Event(
        id=event_id,
        organizer_id=organizer_id,
        name=name,
        timezone=timezone,
        currency=currency,
        starts_at=STARTS,
        registration_opens_at=opens,
        registration_closes_at=closes,
        refund_cutoff_at=refund_cutoff_at,
        classes=classes if classes else (make_class(),),
        late_refund_fee_percent=late_refund_fee_percent,
        fee_policy=fee_policy,
    )
