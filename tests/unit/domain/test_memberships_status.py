"""A membership's status at an instant: the lifecycle table, dunning, grace and member pricing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from eventpay.domain import Money
from eventpay.domain.membership_status import (
    DEFAULT_DUNNING,
    MEMBER_PRICING_STATUSES,
    DunningPolicy,
    MembershipStatus,
    gives_member_pricing,
    grace_until,
    next_retry_at,
    status_at,
)
from eventpay.domain.membership_tiers import DEFAULT_TIERS, MembershipTier
from eventpay.domain.memberships import FactKind, Membership, MembershipFact, apply_facts

from .membership_builders import DAY, T0, exhausted, failed, paid, period, retry, word

K = FactKind
S = MembershipStatus
NEW = Membership("pro")
END = period(0).end  # when the first paid period ends and the renewal falls due
PAID = apply_facts(NEW, [paid(0)])
SECOND = timedelta(seconds=1)


def test_default_dunning_is_days_1_3_7_then_a_week_of_grace() -> None:
    assert DEFAULT_DUNNING.retry_days == (1, 3, 7)
    assert DEFAULT_DUNNING.grace_days == 7


@pytest.mark.parametrize(
    ("retry_days", "grace_days", "words"),
    [
        ((0, 3), 7, "increasing"),
        ((3, 1), 7, "increasing"),
        ((1, 1), 7, "increasing"),
        ((1, 2.5), 7, "ints"),
        ((True,), 7, "ints"),
        ((1,), -1, ">= 0"),
        ((1,), 1.5, "an int"),
        ((1,), False, "an int"),
    ],
)
def test_dunning_policy_is_checked(
    retry_days: tuple[int, ...], grace_days: int, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        DunningPolicy(retry_days, grace_days)


def test_dunning_policy_takes_any_sequence_of_days() -> None:
    assert DunningPolicy([2, 5], 0).retry_days == (2, 5)  # type: ignore[arg-type]


def test_no_payment_yet_is_incomplete_until_the_provider_says_expired() -> None:
    assert status_at(NEW, T0) is S.INCOMPLETE
    first_failed = MembershipFact(K.FIRST_PAYMENT_FAILED, T0, period(0))
    m = apply_facts(NEW, [first_failed, word(K.EXPIRED, T0 + DAY)])
    assert status_at(m, T0 + DAY - SECOND) is S.INCOMPLETE
    assert status_at(m, T0 + DAY) is S.EXPIRED
    assert grace_until(m) is None


# The lifecycle of a membership paid for period 0 and never renewed, at each boundary.
UNPAID_TIMELINE = [
    (period(0).start, S.ACTIVE),
    (END - SECOND, S.ACTIVE),
    (END, S.PAST_DUE),
    (END + 7 * DAY - SECOND, S.PAST_DUE),
    (END + 7 * DAY, S.IN_GRACE),
    (END + 14 * DAY - SECOND, S.IN_GRACE),
    (END + 14 * DAY, S.EXPIRED),
    (END + 400 * DAY, S.EXPIRED),
]


@pytest.mark.parametrize(("at", "status"), UNPAID_TIMELINE)
def test_unpaid_renewal_goes_past_due_then_grace_then_expired(
    at: datetime, status: MembershipStatus
) -> None:
    assert status_at(PAID, at) is status
    assert status_at(apply_facts(PAID, [failed(1), retry(1, 1)]), at) is status
    assert gives_member_pricing(PAID, at) is (status is not S.EXPIRED)


def test_grace_until_is_the_last_retry_day_plus_the_grace() -> None:
    assert grace_until(PAID) == END + 14 * DAY
    assert grace_until(PAID, DunningPolicy((2, 4), 3)) == END + 7 * DAY
    assert grace_until(PAID, DunningPolicy((), 3)) == END + 3 * DAY
    assert status_at(PAID, END, DunningPolicy((), 3)) is S.IN_GRACE
    assert status_at(PAID, END, DunningPolicy((), 0)) is S.EXPIRED


def test_a_provider_giving_up_early_starts_the_grace_then() -> None:
    m = apply_facts(PAID, [failed(1), exhausted(1, 2)])
    assert status_at(m, END + 2 * DAY - SECOND) is S.PAST_DUE
    assert status_at(m, END + 2 * DAY) is S.IN_GRACE
    assert grace_until(m) == END + 9 * DAY
    assert status_at(m, END + 9 * DAY) is S.EXPIRED
    # Giving up later than the policy's last retry does not stretch the grace.
    assert grace_until(apply_facts(PAID, [exhausted(1, 30)])) == END + 14 * DAY
    # A report dated before the renewal fell due cannot start the grace before it.
    odd = apply_facts(PAID, [exhausted(1, -3)])
    assert status_at(odd, END) is S.IN_GRACE
    assert grace_until(odd) == END + 7 * DAY


def test_a_late_payment_revives_even_an_expired_membership() -> None:
    late = END + 30 * DAY
    assert status_at(PAID, late) is S.EXPIRED
    recovered = apply_facts(PAID, [failed(1, 4), paid(1, kind=K.PAYMENT_RECOVERED)])
    assert status_at(recovered, late) is S.ACTIVE
    assert recovered.dunning is None


def test_cancel_at_period_end_keeps_the_paid_period_only() -> None:
    m = apply_facts(PAID, [word(K.CANCEL_REQUESTED, T0 + DAY)])
    assert status_at(m, T0 + 2 * DAY) is S.CANCEL_AT_PERIOD_END
    assert gives_member_pricing(m, END - SECOND)
    assert status_at(m, END) is S.CANCELLED
    assert not gives_member_pricing(m, END)
    assert grace_until(m) is None
    assert next_retry_at(m, END) is None
    withdrawn = apply_facts(m, [word(K.CANCEL_WITHDRAWN, T0 + 3 * DAY)])
    assert status_at(withdrawn, END) is S.PAST_DUE


def test_immediate_cancellation_ends_everything_from_its_instant() -> None:
    at = T0 + 10 * DAY
    m = apply_facts(PAID, [word(K.CANCELLED_NOW, at)])
    assert status_at(m, at - SECOND) is S.ACTIVE
    assert status_at(m, at) is S.CANCELLED
    assert not gives_member_pricing(m, at)
    assert grace_until(m) is None
    # A payment reported afterwards does not undo it.
    assert status_at(apply_facts(m, [paid(1)]), END + DAY) is S.CANCELLED


def test_provider_expiry_honours_the_paid_period() -> None:
    early = apply_facts(PAID, [word(K.EXPIRED, T0 + DAY)])
    assert status_at(early, END - SECOND) is S.ACTIVE
    assert status_at(early, END) is S.EXPIRED
    assert grace_until(early) is None
    late = apply_facts(PAID, [word(K.EXPIRED, END + 3 * DAY)])
    assert status_at(late, END + 3 * DAY - SECOND) is S.PAST_DUE
    assert status_at(late, END + 3 * DAY) is S.EXPIRED


def test_next_retry_follows_the_policy_and_the_attempts_already_failed() -> None:
    assert next_retry_at(PAID, END - SECOND) is None  # still active
    assert next_retry_at(PAID, END) == END + DAY
    assert next_retry_at(PAID, END + DAY) == END + 3 * DAY
    assert next_retry_at(PAID, END + 6 * DAY) == END + 7 * DAY
    assert next_retry_at(apply_facts(PAID, [failed(1, 2)]), END) == END + 3 * DAY
    assert next_retry_at(apply_facts(PAID, [failed(1, 3)]), END) == END + 7 * DAY
    # Past the policy's days the membership is in grace: no retry to show.
    assert next_retry_at(apply_facts(PAID, [failed(1, 4)]), END + 7 * DAY) is None
    # More failures than the policy has days (a provider that retries more): nothing to show.
    assert next_retry_at(apply_facts(PAID, [failed(1, 9)]), END) is None


def test_next_retry_prefers_the_providers_own_schedule_while_it_is_ahead() -> None:
    m = apply_facts(PAID, [failed(1), retry(1, 2)])
    assert next_retry_at(m, END) == END + 2 * DAY
    assert next_retry_at(m, END + 2 * DAY) == END + 3 * DAY


def test_member_pricing_needs_a_member_pricing_tier() -> None:
    free = apply_facts(Membership("competitor"), [paid(0, "competitor")])
    assert status_at(free, T0 + DAY) is S.ACTIVE
    assert not gives_member_pricing(free, T0 + DAY)
    gold = MembershipTier("gold", "Gold", Money(100, "usd"), "year", 9, True)  # type: ignore[arg-type]
    m = apply_facts(Membership("gold"), [paid(0, "gold")])
    assert gives_member_pricing(m, T0 + DAY, tiers=(*DEFAULT_TIERS, gold))
    assert not gives_member_pricing(NEW, T0)


def test_a_tier_taken_out_of_the_settings_gives_no_member_pricing() -> None:
    # Found in review: a tier removed from settings raised MembershipError (HTTP 500); then,
    # every unknown tier code gave member prices, a retired sponsorship tier included.
    m = apply_facts(Membership("gold"), [paid(0, "gold")])
    assert status_at(m, T0 + DAY) is S.ACTIVE
    assert not gives_member_pricing(m, T0 + DAY)
    gold = MembershipTier("gold", "Gold", Money(100, "usd"), "year", 9, True)  # type: ignore[arg-type]
    assert gives_member_pricing(m, T0 + DAY, tiers=(gold,))
    sponsor = MembershipTier("gold", "Gold", Money(100, "usd"), "year", 9, False)  # type: ignore[arg-type]
    assert not gives_member_pricing(m, T0 + DAY, tiers=(sponsor,))


def test_member_pricing_statuses() -> None:
    assert {S.ACTIVE, S.CANCEL_AT_PERIOD_END, S.PAST_DUE, S.IN_GRACE} == MEMBER_PRICING_STATUSES


def test_status_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        status_at(PAID, datetime(2027, 3, 1))
