"""Random sequences of membership facts: order, repetition and stale news never matter.

A Hypothesis state machine applies arbitrary facts about a few yearly periods (payments,
upgrades, failures, retries, exhaustion, cancel words, immediate cancellation, expiry), replays
old ones, and checks after every step against an oracle computed from the raw set of facts
applied so far, not from the merge under test.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from eventpay.domain.membership_status import (
    MEMBER_PRICING_STATUSES,
    MembershipStatus,
    gives_member_pricing,
    status_at,
)
from eventpay.domain.memberships import (
    PAID_KINDS,
    FactKind,
    Membership,
    MembershipFact,
    Period,
    apply_fact,
    apply_facts,
)

from .membership_builders import DAY, T0, period

K = FactKind
PERIODS = 3
TIERS = ("pro", "retailer")
DUNNING_KINDS = {K.FIRST_PAYMENT_FAILED, K.RENEWAL_FAILED, K.RETRY_SCHEDULED, K.RETRIES_EXHAUSTED}


@st.composite
def billing_periods(draw: st.DrawFn) -> Period:
    whole = period(draw(st.integers(0, PERIODS - 1)))
    # Either a whole year or an upgrade's rest of the year (from a day into it).
    offset = draw(st.sampled_from([0, 0, 30, 200]))
    return Period(whole.start + offset * DAY, whole.end)


instants = st.integers(0, (PERIODS + 1) * 365).map(lambda days: T0 + days * DAY)


@st.composite
def facts(draw: st.DrawFn) -> MembershipFact:
    kind = draw(st.sampled_from(list(FactKind)))
    if kind in PAID_KINDS:
        return MembershipFact(
            kind, draw(instants), draw(billing_periods()), draw(st.sampled_from(TIERS))
        )
    if kind is K.TIER_REPORTED:
        return MembershipFact(kind, draw(instants), tier_code=draw(st.sampled_from(TIERS)))
    if kind in DUNNING_KINDS:
        billed = period(draw(st.integers(0, PERIODS - 1)))
        at = billed.start + draw(st.sampled_from([-2, 1, 3, 5, 9, 20])) * DAY
        if kind is K.RETRY_SCHEDULED:
            return MembershipFact(kind, at, billed, retry_at=at + draw(st.integers(1, 5)) * DAY)
        return MembershipFact(kind, at, billed, attempt=draw(st.integers(1, 5)))
    return MembershipFact(kind, draw(instants))


def probes(fact_list: list[MembershipFact]) -> list[datetime]:
    """Instants worth asking about: every boundary the facts define, and just around it."""
    points = {
        T0 + n * 365 * DAY + d * DAY for n in range(PERIODS + 2) for d in (0, 3, 7, 10, 14, 20)
    }
    for fact in fact_list:
        points.add(fact.at)
        if fact.period is not None:
            points.update({fact.period.end, fact.period.end + 7 * DAY, fact.period.end + 14 * DAY})
    return sorted(points | {p - timedelta(seconds=1) for p in points})


def oracle_member_pricing(fact_list: list[MembershipFact], at: datetime) -> bool:
    """The member-pricing rule, stated over the raw facts (every tier here gives it)."""
    cancelled = [f.at for f in fact_list if f.kind is K.CANCELLED_NOW]
    if cancelled and at >= min(cancelled):
        return False
    paid = [f.period.end for f in fact_list if f.kind in PAID_KINDS and f.period is not None]
    if not paid:
        return False
    end = max(paid)
    if at < end:
        return True
    words = [
        (f.at, f.kind is K.CANCEL_REQUESTED)
        for f in fact_list
        if f.kind in {K.CANCEL_REQUESTED, K.CANCEL_WITHDRAWN}
    ]
    if words and max(words)[1]:
        return False
    expired = [f.at for f in fact_list if f.kind is K.EXPIRED]
    if expired and at >= min(expired):
        return False
    grace_start = end + 7 * DAY
    starts = [f.period.start for f in fact_list if f.kind in DUNNING_KINDS and f.period is not None]
    if starts and max(starts) >= end:
        latest = max(starts)
        given_up = [
            f.at for f in fact_list
            if f.kind is K.RETRIES_EXHAUSTED and f.period is not None and f.period.start == latest
        ]  # fmt: skip
        if given_up:
            grace_start = max(end, min(grace_start, min(given_up)))
    return at < grace_start + 7 * DAY


class MembershipFacts(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.membership = Membership("pro")
        self.applied: list[MembershipFact] = []

    @rule(fact=facts())
    def apply(self, fact: MembershipFact) -> None:
        before = self.membership
        change = apply_fact(before, fact)
        after = change.membership
        assert change.applied is (after != before)
        # Nothing moves backwards.
        if before.paid is not None:
            assert after.paid is not None
            assert after.paid.period.end >= before.paid.period.end
            # A payment of a period ending earlier, or a failure of a period already paid,
            # changes nothing.
            billed = fact.period
            end = before.paid.period.end
            ended_earlier = billed is not None and fact.kind in PAID_KINDS and billed.end < end
            already_paid = billed is not None and fact.kind in DUNNING_KINDS and billed.start < end
            if ended_earlier or already_paid:
                assert not change.applied
        if before.cancelled_at is not None:
            assert after.cancelled_at is not None
            assert after.cancelled_at <= before.cancelled_at
        self.membership = after
        self.applied.append(fact)

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        fact = data.draw(st.sampled_from(self.applied))
        change = apply_fact(self.membership, fact)
        assert not change.applied
        assert change.membership == self.membership

    @invariant()
    def any_order_gives_the_same_membership(self) -> None:
        shuffled = list(self.applied)
        random.Random(len(shuffled)).shuffle(shuffled)
        for order in (shuffled, self.applied[::-1], shuffled + self.applied):
            assert apply_facts(Membership("pro"), order) == self.membership

    @invariant()
    def the_paid_period_is_the_latest_paid(self) -> None:
        paid = [f for f in self.applied if f.kind in PAID_KINDS]
        if not paid:
            assert self.membership.paid is None
            return
        assert self.membership.paid is not None
        assert self.membership.paid.period.end == max(f.period.end for f in paid if f.period)

    @invariant()
    def member_pricing_only_when_the_rules_say(self) -> None:
        m = self.membership
        for at in probes(self.applied):
            status = status_at(m, at)
            assert gives_member_pricing(m, at) is oracle_member_pricing(self.applied, at)
            assert (status in MEMBER_PRICING_STATUSES) is gives_member_pricing(m, at)
            if status in (MembershipStatus.ACTIVE, MembershipStatus.CANCEL_AT_PERIOD_END):
                # Active only inside the one paid period: never two live periods at once.
                assert m.paid is not None
                assert at < m.paid.period.end


TestMembershipFacts = MembershipFacts.TestCase
TestMembershipFacts.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
