"""Builders for the membership tests: yearly periods from a fixed start and facts about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventpay.domain.memberships import FactKind, MembershipFact, Period

T0 = datetime(2027, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
DAY = timedelta(days=1)


def period(n: int) -> Period:
    """The n-th yearly period from ``T0``."""
    return Period(T0 + n * YEAR, T0 + (n + 1) * YEAR)


def paid(n: int, tier: str = "pro", *, kind: FactKind = FactKind.RENEWAL_PAID) -> MembershipFact:
    return MembershipFact(kind, period(n).start + timedelta(minutes=5), period(n), tier)


def failed(n: int, attempt: int = 1) -> MembershipFact:
    at = period(n).start + (attempt - 1) * DAY
    return MembershipFact(FactKind.RENEWAL_FAILED, at, period(n), attempt=attempt)


def retry(n: int, days: int) -> MembershipFact:
    start = period(n).start
    return MembershipFact(FactKind.RETRY_SCHEDULED, start, period(n), retry_at=start + days * DAY)


def exhausted(n: int, days: int) -> MembershipFact:
    return MembershipFact(FactKind.RETRIES_EXHAUSTED, period(n).start + days * DAY, period(n))


def word(kind: FactKind, at: datetime) -> MembershipFact:
    return MembershipFact(kind, at)
