"""Stripe and PayPal subscription events, translated into membership facts."""

from __future__ import annotations

import pytest

from eventpay.domain.membership_events import (
    PayPalBillingEvent,
    StripeBillingEvent,
    paypal_facts,
    stripe_facts,
)
from eventpay.domain.membership_status import MembershipStatus, status_at
from eventpay.domain.memberships import FactKind, Membership, MembershipFact, apply_facts

from .membership_builders import DAY, T0, period

K = FactKind
P0, P1 = period(0), period(1)
AT = P1.start


def stripe(type_: str, **fields: object) -> tuple[MembershipFact, ...]:
    return stripe_facts(StripeBillingEvent(type_, AT, **fields))  # type: ignore[arg-type]


def kinds(facts: tuple[MembershipFact, ...]) -> list[FactKind]:
    return [fact.kind for fact in facts]


@pytest.mark.parametrize(
    ("reason", "attempts", "kind"),
    [
        ("subscription_create", 1, K.FIRST_PAYMENT_SUCCEEDED),
        ("subscription_cycle", 1, K.RENEWAL_PAID),
        ("subscription_cycle", 3, K.PAYMENT_RECOVERED),
        ("subscription_update", 1, K.RENEWAL_PAID),
    ],
)
def test_stripe_invoice_paid(reason: str, attempts: int, kind: FactKind) -> None:
    facts = stripe(
        "invoice.paid", period=P1, tier_code="pro", billing_reason=reason, attempt_count=attempts
    )
    assert facts == (MembershipFact(kind, AT, P1, "pro"),)


def test_stripe_paid_invoice_without_its_period_is_a_bug() -> None:
    with pytest.raises(ValueError, match="needs the period"):
        stripe("invoice.paid", tier_code="pro", billing_reason="subscription_cycle")


def test_stripe_first_invoice_failing_leaves_it_incomplete() -> None:
    facts = stripe("invoice.payment_failed", period=P0, billing_reason="subscription_create")
    assert facts == (MembershipFact(K.FIRST_PAYMENT_FAILED, AT, P0),)
    assert status_at(apply_facts(Membership("pro"), facts), AT) is MembershipStatus.INCOMPLETE


def test_stripe_renewal_failing_with_a_retry_planned() -> None:
    facts = stripe(
        "invoice.payment_failed",
        period=P1,
        billing_reason="subscription_cycle",
        attempt_count=2,
        next_payment_attempt=AT + 3 * DAY,
    )
    assert facts == (
        MembershipFact(K.RENEWAL_FAILED, AT, P1, attempt=2),
        MembershipFact(K.RETRY_SCHEDULED, AT, P1, retry_at=AT + 3 * DAY),
    )


def test_stripe_renewal_failing_for_the_last_time() -> None:
    facts = stripe(
        "invoice.payment_failed", period=P1, billing_reason="subscription_cycle", attempt_count=0
    )
    assert facts == (
        MembershipFact(K.RENEWAL_FAILED, AT, P1, attempt=1),
        MembershipFact(K.RETRIES_EXHAUSTED, AT, P1),
    )


@pytest.mark.parametrize(
    ("type_", "reason"),
    [
        ("invoice.paid", "manual"),
        ("invoice.paid", None),
        ("invoice.payment_action_required", "subscription_cycle"),
        ("invoice.finalized", "subscription_cycle"),
        ("payment_intent.succeeded", None),
    ],
)
def test_stripe_events_memberships_ignore(type_: str, reason: str | None) -> None:
    assert stripe(type_, period=P1, tier_code="pro", billing_reason=reason) == ()


@pytest.mark.parametrize("status", ["incomplete", "trialing", "active", "past_due", "paused"])
def test_stripe_live_statuses_say_only_the_cancel_word(status: str) -> None:
    event = "customer.subscription.updated"
    assert stripe(event, status=status) == ()
    assert stripe(event, status=status, cancel_at_period_end=True) == (
        MembershipFact(K.CANCEL_REQUESTED, AT),
    )
    assert stripe(event, status=status, cancel_at_period_end=False) == (
        MembershipFact(K.CANCEL_WITHDRAWN, AT),
    )


def test_stripe_unpaid_and_cancelled_for_non_payment_exhaust_the_retries() -> None:
    exhausted = (MembershipFact(K.RETRIES_EXHAUSTED, AT, P1),)
    assert stripe("customer.subscription.updated", status="unpaid", period=P1) == exhausted
    deleted = stripe(
        "customer.subscription.deleted",
        status="canceled",
        period=P1,
        cancellation_reason="payment_failed",
    )
    assert deleted == exhausted


def test_stripe_cancelled_otherwise_ends_at_ended_at() -> None:
    ended = AT + 5 * DAY
    assert stripe("customer.subscription.deleted", status="canceled", ended_at=ended) == (
        MembershipFact(K.CANCELLED_NOW, ended),
    )
    assert stripe(
        "customer.subscription.deleted",
        status="canceled",
        cancellation_reason="cancellation_requested",
    ) == (MembershipFact(K.CANCELLED_NOW, AT),)


def test_stripe_incomplete_expired_is_expired() -> None:
    assert stripe("customer.subscription.updated", status="incomplete_expired") == (
        MembershipFact(K.EXPIRED, AT),
    )


def test_stripe_unknown_or_missing_status_is_refused() -> None:
    with pytest.raises(ValueError, match="'frozen'"):
        stripe("customer.subscription.updated", status="frozen")
    with pytest.raises(ValueError, match="needs the subscription's status"):
        stripe("customer.subscription.created")


def paypal(type_: str, **fields: object) -> tuple[MembershipFact, ...]:
    return paypal_facts(PayPalBillingEvent(type_, AT, **fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cycles", "kind"),
    [(0, K.FIRST_PAYMENT_SUCCEEDED), (1, K.FIRST_PAYMENT_SUCCEEDED), (2, K.RENEWAL_PAID)],
)
def test_paypal_sale_completed(cycles: int, kind: FactKind) -> None:
    facts = paypal("PAYMENT.SALE.COMPLETED", period=P1, tier_code="pro", cycles_completed=cycles)
    assert facts == (MembershipFact(kind, AT, P1, "pro"),)


@pytest.mark.parametrize(
    ("cycles", "failures", "fact"),
    [
        (0, 0, MembershipFact(K.FIRST_PAYMENT_FAILED, AT, P1, attempt=1)),
        (1, 2, MembershipFact(K.RENEWAL_FAILED, AT, P1, attempt=2)),
    ],
)
def test_paypal_payment_failed(cycles: int, failures: int, fact: MembershipFact) -> None:
    facts = paypal(
        "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
        period=P1,
        cycles_completed=cycles,
        failed_payments_count=failures,
    )
    assert facts == (fact,)


@pytest.mark.parametrize(
    "type_",
    [
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "BILLING.SUBSCRIPTION.RE-ACTIVATED",
        "CHECKOUT.ORDER.APPROVED",
    ],
)
def test_paypal_events_that_say_nothing_about_money(type_: str) -> None:
    assert paypal(type_, period=P1) == ()


def test_paypal_updated_reads_the_status_it_carries() -> None:
    assert paypal("BILLING.SUBSCRIPTION.UPDATED", status="APPROVED") == ()
    assert paypal("BILLING.SUBSCRIPTION.UPDATED", status="CANCELLED") == (
        MembershipFact(K.CANCEL_REQUESTED, AT),
    )
    with pytest.raises(ValueError, match="needs the subscription's status"):
        paypal("BILLING.SUBSCRIPTION.UPDATED")
    with pytest.raises(ValueError, match="'PAUSED'"):
        paypal("BILLING.SUBSCRIPTION.UPDATED", status="PAUSED")


def test_paypal_suspended_for_failed_payments_exhausts_the_retries() -> None:
    assert paypal("BILLING.SUBSCRIPTION.SUSPENDED", period=P1, failed_payments_count=3) == (
        MembershipFact(K.RETRIES_EXHAUSTED, AT, P1),
    )
    assert paypal("BILLING.SUBSCRIPTION.SUSPENDED", period=P1) == ()


def test_paypal_cancelled_runs_out_the_paid_cycle_and_expired_is_expired() -> None:
    cancelled = paypal("BILLING.SUBSCRIPTION.CANCELLED")
    assert cancelled == (MembershipFact(K.CANCEL_REQUESTED, AT),)
    paid = paypal("PAYMENT.SALE.COMPLETED", period=P0, tier_code="pro", cycles_completed=1)
    m = apply_facts(Membership("pro"), [*paid, *cancelled])
    assert status_at(m, AT - DAY) is MembershipStatus.CANCEL_AT_PERIOD_END
    assert status_at(m, P0.end) is MembershipStatus.CANCELLED
    assert paypal("BILLING.SUBSCRIPTION.EXPIRED") == (MembershipFact(K.EXPIRED, AT),)
    assert T0 < AT


def test_subscription_events_report_the_tier_they_are_on() -> None:
    # Found in review: an upgrade showed the old tier until the next invoice was paid.
    tier = MembershipFact(K.TIER_REPORTED, AT, tier_code="retailer")
    updated = stripe("customer.subscription.updated", status="active", tier_code="retailer")
    assert updated == (tier,)
    cancelled = stripe(
        "customer.subscription.updated",
        status="active",
        tier_code="retailer",
        cancel_at_period_end=True,
    )
    assert cancelled == (tier, MembershipFact(K.CANCEL_REQUESTED, AT))
    revised = paypal("BILLING.SUBSCRIPTION.UPDATED", status="ACTIVE", tier_code="retailer")
    assert revised == (tier,)
    assert paypal("BILLING.SUBSCRIPTION.CANCELLED", tier_code="retailer") == (
        tier,
        MembershipFact(K.CANCEL_REQUESTED, AT),
    )
