"""A membership's status at an instant, from what its facts established and a dunning policy.

Time does what no fact says (``status_at``), with a ``DunningPolicy`` (by default retries on
days 1, 3 and 7 after the renewal fell due at the paid period's end, then 7 days of grace)::

    no payment yet ................................ incomplete (expired if the provider says so)
    before the paid period's end .................. active | cancel_at_period_end
    after it, cancel requested .................... cancelled
    after it, provider said expired ............... expired
    after it, unpaid, before the last retry day ... past_due   (member prices still apply)
    then, until the grace ends .................... in_grace   (member prices still apply)
    then .......................................... expired
    from an immediate cancellation ................ cancelled  (whatever else is known)

When the provider gives up earlier than the policy's last retry day (``retries_exhausted``),
the grace starts then. A payment of the unpaid period arriving late, even after ``expired``,
makes the membership active again: money received is never ignored. A status is never stored
as the truth: the projection stores the facts' merge and recomputes the status when asked.

Member pricing (``gives_member_pricing``) needs both a tier that gives it (a tier no longer in
the settings does not: ``membership_tiers.member_pricing_of``) and a status in
``MEMBER_PRICING_STATUSES``: active, cancelling at the period end, past due or in grace. It
stops at an immediate cancellation, at a cancelled membership's period end, and at the end of
the grace.

What must not live here: merging facts (``memberships``), provider names, storage, clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from eventpay.domain.deadlines import require_aware
from eventpay.domain.membership_tiers import DEFAULT_TIERS, MembershipTier, member_pricing_of
from eventpay.domain.memberships import Membership


class MembershipStatus(StrEnum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"
    PAST_DUE = "past_due"
    IN_GRACE = "in_grace"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


MEMBER_PRICING_STATUSES = frozenset(
    {
        MembershipStatus.ACTIVE,
        MembershipStatus.CANCEL_AT_PERIOD_END,
        MembershipStatus.PAST_DUE,
        MembershipStatus.IN_GRACE,
    }
)
"""The statuses in which a member of a member-pricing tier pays member prices."""


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """Retries ``retry_days`` after a renewal fell due, then ``grace_days`` of grace."""

    retry_days: tuple[int, ...] = (1, 3, 7)
    grace_days: int = 7

    def __post_init__(self) -> None:
        days = tuple(self.retry_days)
        if any(isinstance(d, bool) or not isinstance(d, int) for d in days):
            raise ValueError(f"retry days must be ints, got {self.retry_days!r}")
        if any(d <= 0 for d in days) or list(days) != sorted(set(days)):
            raise ValueError(f"retry days must be > 0 and increasing, got {self.retry_days!r}")
        if isinstance(self.grace_days, bool) or not isinstance(self.grace_days, int):
            raise ValueError(f"grace days must be an int, got {self.grace_days!r}")
        if self.grace_days < 0:
            raise ValueError(f"grace days must be >= 0, got {self.grace_days}")
        object.__setattr__(self, "retry_days", days)


DEFAULT_DUNNING = DunningPolicy()


def _grace_start(m: Membership, end: datetime, policy: DunningPolicy) -> datetime:
    start = end + timedelta(days=policy.retry_days[-1] if policy.retry_days else 0)
    if m.dunning is not None and m.dunning.exhausted_at is not None:
        start = max(end, min(start, m.dunning.exhausted_at))
    return start


def status_at(
    membership: Membership, at: datetime, policy: DunningPolicy = DEFAULT_DUNNING
) -> MembershipStatus:
    """The membership's status at the instant ``at`` (see the module docstring's table)."""
    require_aware(at, "at")
    m = membership
    if m.cancelled_at is not None and at >= m.cancelled_at:
        return MembershipStatus.CANCELLED
    if m.paid is None:
        expired = m.expired_at is not None and at >= m.expired_at
        return MembershipStatus.EXPIRED if expired else MembershipStatus.INCOMPLETE
    end = m.paid.period.end
    if at < end:
        if m.cancel_requested:
            return MembershipStatus.CANCEL_AT_PERIOD_END
        return MembershipStatus.ACTIVE
    if m.cancel_requested:
        return MembershipStatus.CANCELLED
    if m.expired_at is not None and at >= m.expired_at:
        return MembershipStatus.EXPIRED
    grace_start = _grace_start(m, end, policy)
    if at < grace_start:
        return MembershipStatus.PAST_DUE
    if at < grace_start + timedelta(days=policy.grace_days):
        return MembershipStatus.IN_GRACE
    return MembershipStatus.EXPIRED


def grace_until(membership: Membership, policy: DunningPolicy = DEFAULT_DUNNING) -> datetime | None:
    """When member pricing ends if the renewal due at the paid period's end is never paid;
    None without a paid period, or when the membership ends without renewal anyway."""
    m = membership
    if m.paid is None or m.cancel_requested:
        return None
    if m.cancelled_at is not None or m.expired_at is not None:
        return None
    end = m.paid.period.end
    return _grace_start(m, end, policy) + timedelta(days=policy.grace_days)


def next_retry_at(
    membership: Membership, at: datetime, policy: DunningPolicy = DEFAULT_DUNNING
) -> datetime | None:
    """The next attempt to charge a past-due renewal after ``at``: the provider's word when it
    gave one, else the policy's next retry day after the attempts already failed."""
    if status_at(membership, at, policy) is not MembershipStatus.PAST_DUE:
        return None
    m = membership
    assert m.paid is not None
    dunning = m.dunning
    if dunning is not None and dunning.retry_at is not None and dunning.retry_at > at:
        return dunning.retry_at
    failed = 0 if dunning is None else dunning.attempts
    for day in policy.retry_days[max(failed - 1, 0) :]:
        retry = m.paid.period.end + timedelta(days=day)
        if retry > at:
            return retry
    return None


def gives_member_pricing(
    membership: Membership,
    at: datetime,
    *,
    tiers: Sequence[MembershipTier] = DEFAULT_TIERS,
    policy: DunningPolicy = DEFAULT_DUNNING,
) -> bool:
    """Whether the member pays member prices at ``at``: a member-pricing tier, and a status
    in ``MEMBER_PRICING_STATUSES``; a tier no longer in the settings gives none
    (``membership_tiers.member_pricing_of``)."""
    member_tier = member_pricing_of(tiers, membership.current_tier_code)
    return member_tier and status_at(membership, at, policy) in (MEMBER_PRICING_STATUSES)
