"""Membership facts: validation, and merging that ignores order, repetition and stale news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventpay.domain.memberships import (
    CancelRequest,
    ChangeOutcome,
    Dunning,
    FactKind,
    Membership,
    MembershipFact,
    PaidPeriod,
    Period,
    PlanWord,
    apply_fact,
    apply_facts,
)

from .membership_builders import (
    DAY,
    T0,
    exhausted,
    failed,
    paid,
    period,
    retry,
    word,
)

K = FactKind
NEW = Membership("pro")


def test_period_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        Period(T0, T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(datetime(2027, 1, 1), T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(T0, datetime(2028, 1, 1))


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": K.RENEWAL_PAID, "tier_code": "pro"}, "needs the period"),
        ({"kind": K.RENEWAL_FAILED}, "needs the period"),
        ({"kind": K.CANCELLED_NOW, "period": period(0)}, "concerns no period"),
        ({"kind": K.RENEWAL_PAID, "period": period(0)}, "tier_code"),
        ({"kind": K.RENEWAL_FAILED, "period": period(0), "tier_code": "pro"}, "tier_code"),
        ({"kind": K.RENEWAL_FAILED, "period": period(0), "attempt": 0}, "attempt"),
        ({"kind": K.RENEWAL_FAILED, "period": period(0), "attempt": True}, "attempt"),
        ({"kind": K.RETRY_SCHEDULED, "period": period(0)}, "retry_at"),
        ({"kind": K.RENEWAL_FAILED, "period": period(0), "retry_at": T0}, "retry_at"),
        ({"kind": K.CANCELLED_NOW, "at": datetime(2027, 1, 1)}, "timezone-aware"),
        (
            {"kind": K.RETRY_SCHEDULED, "period": period(0), "retry_at": datetime(2027, 1, 2)},
            "timezone-aware",
        ),
        ({"kind": "refunded"}, "refunded"),
    ],
)
def test_fact_shape_is_checked(fields: dict[str, object], words: str) -> None:
    values: dict[str, object] = {"at": T0}
    values.update(fields)
    with pytest.raises(ValueError, match=words):
        MembershipFact(**values)  # type: ignore[arg-type]


def test_fact_kind_strings_from_storage_become_the_enum() -> None:
    fact = MembershipFact("cancelled_now", T0)  # type: ignore[arg-type]
    assert fact.kind is K.CANCELLED_NOW


def test_first_payment_records_the_paid_period_and_tier() -> None:
    change = apply_fact(NEW, paid(0, "retailer", kind=K.FIRST_PAYMENT_SUCCEEDED))
    assert change.applied
    assert change.outcome is ChangeOutcome.APPLIED
    assert change.membership.paid == PaidPeriod(period(0), "retailer")
    assert change.membership.current_tier_code == "retailer"
    assert change.membership.tier_code == "pro"
    assert change.membership.paid_through == period(0).end
    assert NEW.current_tier_code == "pro"
    assert NEW.paid_through is None


def test_a_fact_already_known_is_ignored() -> None:
    once = apply_fact(NEW, paid(0)).membership
    again = apply_fact(once, paid(0))
    assert not again.applied
    assert again.outcome is ChangeOutcome.IGNORED
    assert again.membership == once


def test_an_older_paid_period_does_not_replace_a_later_one() -> None:
    later = apply_facts(NEW, [paid(1)])
    assert not apply_fact(later, paid(0)).applied
    assert apply_facts(NEW, [paid(0), paid(1)]) == later


def test_an_upgrade_paid_for_the_rest_of_the_period_wins_over_the_period_it_splits() -> None:
    upgrade_at = period(0).start + 100 * DAY
    upgrade = MembershipFact(K.RENEWAL_PAID, upgrade_at, Period(upgrade_at, period(0).end), "gold")
    for facts in ([paid(0), upgrade], [upgrade, paid(0)]):
        m = apply_facts(NEW, facts)
        assert m.current_tier_code == "gold"
        assert m.paid_through == period(0).end


def test_a_failure_of_the_next_period_is_dunning() -> None:
    m = apply_facts(NEW, [paid(0), failed(1)])
    assert m.dunning == Dunning(period(1).start, attempts=1)


def test_a_failure_of_a_period_already_paid_changes_nothing() -> None:
    m = apply_facts(NEW, [paid(0), paid(1)])
    for stale in (failed(1), failed(0, attempt=3), retry(1, 3), exhausted(1, 7)):
        assert not apply_fact(m, stale).applied
    # And a payment that arrives after the failure clears it.
    assert apply_facts(NEW, [paid(0), failed(1), paid(1)]).dunning is None


def test_first_payment_failures_are_kept_until_it_succeeds() -> None:
    first_failed = MembershipFact(K.FIRST_PAYMENT_FAILED, T0, period(0), attempt=2)
    m = apply_fact(NEW, first_failed).membership
    assert m.dunning == Dunning(period(0).start, attempts=2)
    assert apply_fact(m, paid(0, kind=K.FIRST_PAYMENT_SUCCEEDED)).membership.dunning is None


def test_dunning_of_one_period_merges_field_by_field() -> None:
    base = apply_facts(NEW, [paid(0)])
    facts = [failed(1, 2), failed(1, 1), retry(1, 3), retry(1, 1), exhausted(1, 9), exhausted(1, 8)]
    m = apply_facts(base, facts)
    assert m.dunning == Dunning(
        period(1).start, attempts=2, retry_at=period(1).start + 3 * DAY,
        exhausted_at=period(1).start + 8 * DAY,
    )  # fmt: skip
    assert apply_facts(base, list(reversed(facts))) == m


def test_dunning_of_a_later_period_replaces_an_earlier_one() -> None:
    m = apply_facts(NEW, [failed(2), failed(1, 3)])
    assert m.dunning == Dunning(period(2).start, attempts=1)


def test_cancel_words_latest_wins_and_a_request_wins_a_tie() -> None:
    request, withdraw = word(K.CANCEL_REQUESTED, T0), word(K.CANCEL_WITHDRAWN, T0 + DAY)
    assert apply_facts(NEW, [request, withdraw]).cancel == CancelRequest(T0 + DAY, False)
    assert apply_facts(NEW, [withdraw, request]).cancel == CancelRequest(T0 + DAY, False)
    assert not apply_facts(NEW, [withdraw, request]).cancel_requested
    tie = [word(K.CANCEL_WITHDRAWN, T0), word(K.CANCEL_REQUESTED, T0)]
    assert apply_facts(NEW, tie).cancel_requested
    assert apply_facts(NEW, tie[::-1]).cancel_requested


def test_immediate_cancellation_and_expiry_keep_the_earliest_instant() -> None:
    later, earlier = T0 + 2 * DAY, T0 + DAY
    m = apply_facts(NEW, [word(K.CANCELLED_NOW, later), word(K.CANCELLED_NOW, earlier)])
    assert m.cancelled_at == earlier
    assert not apply_fact(m, word(K.CANCELLED_NOW, later)).applied
    m = apply_facts(NEW, [word(K.EXPIRED, later), word(K.EXPIRED, earlier)])
    assert m.expired_at == earlier


def test_apply_facts_of_nothing_is_the_membership() -> None:
    assert apply_facts(NEW, []) is NEW
    assert T0.tzinfo is UTC
    assert isinstance(DAY, timedelta)


def test_the_providers_word_on_the_tier_shows_an_upgrade_before_any_invoice_pays_for_it() -> None:
    # Found in review: after an upgrade the old tier showed until the next invoice.
    upgraded = MembershipFact(K.TIER_REPORTED, period(0).start + 100 * DAY, tier_code="retailer")
    older = MembershipFact(K.TIER_REPORTED, period(0).start, tier_code="pro")
    for facts in ([paid(0), older, upgraded], [upgraded, paid(0), older], [older, upgraded]):
        m = apply_facts(NEW, facts)
        assert m.current_tier_code == "retailer"
        assert m.plan == PlanWord(upgraded.at, "retailer")
    m = apply_facts(NEW, [paid(0), upgraded])
    assert not apply_fact(m, older).applied
    assert not apply_fact(m, upgraded).applied
    assert m.paid is not None
    assert m.paid.tier_code == "pro"


def test_a_renewal_paid_after_the_providers_word_names_the_tier() -> None:
    word_before = MembershipFact(K.TIER_REPORTED, period(1).start - DAY, tier_code="retailer")
    m = apply_facts(NEW, [paid(0), word_before, paid(1, "manufacturer")])
    assert m.current_tier_code == "manufacturer"
    tie = MembershipFact(K.TIER_REPORTED, word_before.at, tier_code="pro")
    assert apply_facts(m, [tie]).plan == PlanWord(word_before.at, "retailer")
    assert not apply_fact(m, tie).applied


def test_a_tier_word_carries_its_tier_and_no_period() -> None:
    with pytest.raises(ValueError, match="tier_code"):
        MembershipFact(K.TIER_REPORTED, T0)
    with pytest.raises(ValueError, match="concerns no period"):
        MembershipFact(K.TIER_REPORTED, T0, period(0), "pro")
