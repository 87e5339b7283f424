"""A membership's facts: what providers reported, merged so that order never matters.

Stripe and PayPal report a subscription's life through webhooks that arrive late, twice and in
any order (``membership_events`` turns them into ``MembershipFact`` values). So the state kept
here is not a status that each fact moves: it is what the facts have established, merged so
that **the order and repetition of facts never matter** (each field is a join: a maximum, a
minimum or a latest-wins register); the status is derived from it and the caller's instant
(``membership_status.status_at``). Applying the same facts in any order gives the same
``Membership``; a fact already known changes nothing; an older fact (a failed renewal of a
period already paid) changes nothing. Every field only grows, so a membership never moves
backwards.

What the facts establish:

- ``paid``: the paid period with the latest end (then the latest start, so an upgrade's
  proration invoice for the rest of the period, paid at the new tier, wins over the period it
  splits).
- ``plan``: the provider's latest word on which tier the subscription is on (``tier_reported``,
  latest instant wins, then the greater code on a tie). A tier change takes effect at the
  provider before any invoice pays for it (Stripe puts an upgrade's proration on the next
  invoice; PayPal switches the plan once the buyer approved the revision), so the member's tier
  is the plan's when the provider said it within or after the paid period, else the paid
  period's (``current_tier_code``).
- ``dunning``: what is known about the first unpaid period (failed attempts, the provider's next
  retry, when the provider gave up). Dunning of a period that has since been paid is dropped.
- ``cancel``: the latest word on cancel-at-period-end (requested or withdrawn), by the instant
  the provider said it; on a tie a request wins.
- ``cancelled_at``: the earliest immediate cancellation; ``expired_at``: the earliest instant
  the provider said the subscription expired (no more renewals; a paid period is honoured).

How long a membership lasts from what is known, and what it costs, are elsewhere
(``membership_status``: the status at an instant, dunning and grace; ``membership_billing``).
The end of a period is not a fact: it is an instant, and the caller passes the instant it asks
about.

What must not live here: provider names (``membership_events``), time rules
(``membership_status``), prices (``membership_tiers``, ``membership_billing``), storage, clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from eventpay.domain.deadlines import require_aware


class FactKind(StrEnum):
    FIRST_PAYMENT_SUCCEEDED = "first_payment_succeeded"
    RENEWAL_PAID = "renewal_paid"
    PAYMENT_RECOVERED = "payment_recovered"
    FIRST_PAYMENT_FAILED = "first_payment_failed"
    RENEWAL_FAILED = "renewal_failed"
    RETRY_SCHEDULED = "retry_scheduled"
    RETRIES_EXHAUSTED = "retries_exhausted"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_WITHDRAWN = "cancel_withdrawn"
    CANCELLED_NOW = "cancelled_now"
    EXPIRED = "expired"
    TIER_REPORTED = "tier_reported"


PAID_KINDS = frozenset(
    {FactKind.FIRST_PAYMENT_SUCCEEDED, FactKind.RENEWAL_PAID, FactKind.PAYMENT_RECOVERED}
)
_FAILED_KINDS = frozenset({FactKind.FIRST_PAYMENT_FAILED, FactKind.RENEWAL_FAILED})
_TIER_KINDS = PAID_KINDS | {FactKind.TIER_REPORTED}
_PERIOD_KINDS = PAID_KINDS | _FAILED_KINDS | {FactKind.RETRY_SCHEDULED, FactKind.RETRIES_EXHAUSTED}


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period, ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "period start")
        require_aware(self.end, "period end")
        if self.end <= self.start:
            raise ValueError(f"a period must end after it starts: {self.start} to {self.end}")


@dataclass(frozen=True, slots=True)
class MembershipFact:
    """Something a provider reported, at ``at``, about the billing ``period`` it concerns.

    Paid facts carry the tier paid for, ``tier_reported`` the tier the subscription is on;
    failures carry the attempt number (1 is the renewal charge itself); ``retry_scheduled``
    carries the provider's next attempt (``retry_at``).
    """

    kind: FactKind
    at: datetime
    period: Period | None = None
    tier_code: str | None = None
    attempt: int = 1
    retry_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FactKind(self.kind))
        require_aware(self.at, "fact time")
        if (self.period is None) is (self.kind in _PERIOD_KINDS):
            raise ValueError(f"a {self.kind.value} fact {_needs(self.kind in _PERIOD_KINDS)}")
        if (self.tier_code is None) is (self.kind in _TIER_KINDS):
            raise ValueError(f"a {self.kind.value} fact's tier_code is wrong")
        if isinstance(self.attempt, bool) or not isinstance(self.attempt, int) or self.attempt < 1:
            raise ValueError(f"attempt must be an int >= 1, got {self.attempt!r}")
        if (self.retry_at is None) is (self.kind is FactKind.RETRY_SCHEDULED):
            raise ValueError(f"retry_at goes with retry_scheduled facts only, not {self.kind}")
        if self.retry_at is not None:
            require_aware(self.retry_at, "retry_at")


def _needs(needs_period: bool) -> str:
    return "needs the period it concerns" if needs_period else "concerns no period"


@dataclass(frozen=True, slots=True)
class PaidPeriod:
    period: Period
    tier_code: str

    @property
    def key(self) -> tuple[datetime, datetime, str]:
        return (self.period.end, self.period.start, self.tier_code)


@dataclass(frozen=True, slots=True)
class Dunning:
    """What is known about the unpaid period starting at ``period_start``."""

    period_start: datetime
    attempts: int = 0
    retry_at: datetime | None = None
    exhausted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """The latest word on cancel-at-period-end: ``requested`` (or withdrawn) at ``at``."""

    at: datetime
    requested: bool


@dataclass(frozen=True, slots=True)
class PlanWord:
    """The provider said at ``at`` that the subscription is on ``tier_code``."""

    at: datetime
    tier_code: str


@dataclass(frozen=True, slots=True)
class Membership:
    """What the facts about one subscription have established; ``tier_code`` is the tier
    signed up for, ``current_tier_code`` the tier the member is on now (module docstring)."""

    tier_code: str
    paid: PaidPeriod | None = None
    dunning: Dunning | None = None
    cancel: CancelRequest | None = None
    cancelled_at: datetime | None = None
    expired_at: datetime | None = None
    plan: PlanWord | None = None

    @property
    def current_tier_code(self) -> str:
        plan, paid = self.plan, self.paid
        if plan is not None and (paid is None or plan.at >= paid.period.start):
            return plan.tier_code
        return self.tier_code if paid is None else paid.tier_code

    @property
    def paid_through(self) -> datetime | None:
        return None if self.paid is None else self.paid.period.end

    @property
    def cancel_requested(self) -> bool:
        return self.cancel is not None and self.cancel.requested


class ChangeOutcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    """Duplicate or older than what is known: the membership is unchanged."""


@dataclass(frozen=True, slots=True)
class MembershipChange:
    membership: Membership
    outcome: ChangeOutcome

    @property
    def applied(self) -> bool:
        return self.outcome is ChangeOutcome.APPLIED


def apply_fact(membership: Membership, fact: MembershipFact) -> MembershipChange:
    """Merge ``fact`` into what is known; ``ignored`` when it adds nothing."""
    merged = _normalise(_merge(membership, fact))
    outcome = ChangeOutcome.IGNORED if merged == membership else ChangeOutcome.APPLIED
    return MembershipChange(merged, outcome)


def apply_facts(membership: Membership, facts: Sequence[MembershipFact]) -> Membership:
    for fact in facts:
        membership = apply_fact(membership, fact).membership
    return membership


def _merge(m: Membership, fact: MembershipFact) -> Membership:
    kind = fact.kind
    if kind in PAID_KINDS:
        assert fact.period is not None
        assert fact.tier_code is not None
        paid = PaidPeriod(fact.period, fact.tier_code)
        if m.paid is None or paid.key > m.paid.key:
            return replace(m, paid=paid)
        return m
    if kind in _PERIOD_KINDS:
        assert fact.period is not None
        start = fact.period.start
        if kind is FactKind.RETRY_SCHEDULED:
            news = Dunning(start, retry_at=fact.retry_at)
        elif kind is FactKind.RETRIES_EXHAUSTED:
            news = Dunning(start, exhausted_at=fact.at)
        else:
            news = Dunning(start, attempts=fact.attempt)
        return replace(m, dunning=_merge_dunning(m.dunning, news))
    if kind in (FactKind.CANCEL_REQUESTED, FactKind.CANCEL_WITHDRAWN):
        word = CancelRequest(fact.at, kind is FactKind.CANCEL_REQUESTED)
        if m.cancel is None or (word.at, word.requested) > (m.cancel.at, m.cancel.requested):
            return replace(m, cancel=word)
        return m
    if kind is FactKind.TIER_REPORTED:
        assert fact.tier_code is not None
        said = PlanWord(fact.at, fact.tier_code)
        if m.plan is None or (said.at, said.tier_code) > (m.plan.at, m.plan.tier_code):
            return replace(m, plan=said)
        return m
    if kind is FactKind.CANCELLED_NOW:
        return replace(m, cancelled_at=_earliest(m.cancelled_at, fact.at))
    return replace(m, expired_at=_earliest(m.expired_at, fact.at))


def _merge_dunning(old: Dunning | None, new: Dunning) -> Dunning:
    if old is None or new.period_start > old.period_start:
        return new
    if new.period_start < old.period_start:
        return old
    return Dunning(
        old.period_start,
        attempts=max(old.attempts, new.attempts),
        retry_at=_latest(old.retry_at, new.retry_at),
        exhausted_at=_earliest(old.exhausted_at, new.exhausted_at),
    )


def _normalise(m: Membership) -> Membership:
    # Dunning of a period that a payment has covered can never matter again (paid_through only
    # grows), so dropping it keeps "an older failure changes nothing" without breaking order
    # independence.
    if m.dunning is not None and m.paid is not None and m.dunning.period_start < m.paid.period.end:
        return replace(m, dunning=None)
    return m


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
