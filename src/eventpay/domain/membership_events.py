"""What Stripe Billing and PayPal subscription events mean for a membership, as facts.

Pure translation: the webhook service reads the few fields named below from the verified event
(and, for PayPal, from the subscription it reads back) and gets the ``MembershipFact`` values to
merge (``memberships.apply_fact``). Nothing here orders or deduplicates events: the merge is
order-independent, so every delivery can be translated and applied as it comes.

Stripe, one lifecycle onto ours:

    invoice.paid            subscription_create -> first_payment_succeeded
                            subscription_cycle  -> renewal_paid (payment_recovered after a retry)
                            subscription_update -> renewal_paid (an upgrade's proration invoice,
                                                   for the rest of the period at the new tier)
    invoice.payment_failed  subscription_create -> first_payment_failed (Stripe keeps the
                                                   subscription incomplete for 23 hours)
                            otherwise           -> renewal_failed(attempt_count), then
                                                   retry_scheduled(next_payment_attempt), or
                                                   retries_exhausted when Stripe will not retry
    customer.subscription.created|updated|deleted, and subscription reads: tier_reported (the
    tier of its price, so an upgrade shows at once), then by status:
      incomplete, trialing, active, past_due, paused -> only the cancel_at_period_end word
      unpaid                -> retries_exhausted for the current period
      canceled              -> retries_exhausted when cancelled for non-payment (the grace still
                               runs), else cancelled_now at ``ended_at``
      incomplete_expired    -> expired

PayPal (``BILLING.SUBSCRIPTION.*`` carry the subscription, whose status decides):

    PAYMENT.SALE.COMPLETED                 -> first_payment_succeeded (first regular cycle),
                                              else renewal_paid
    BILLING.SUBSCRIPTION.PAYMENT.FAILED    -> first_payment_failed | renewal_failed(failed count)
    any other BILLING.SUBSCRIPTION.*       -> tier_reported (the plan read back: an approved
                                              revision shows on UPDATED), then by status:
    APPROVAL_PENDING, APPROVED, ACTIVE     -> nothing more (payments carry the money)
    SUSPENDED                              -> retries_exhausted when suspended for failed
                                              payments (PayPal's failure threshold); the
                                              platform never suspends by hand
    CANCELLED                              -> cancel_requested: PayPal stops billing and the
                                              cycle already paid runs out (no refund)
    EXPIRED                                -> expired (its last cycle is still honoured)

A provider status this module does not know raises ``ValueError``: the webhook fails and is
redelivered after a fix, rather than being read as something it is not. An event type it does
not know means nothing for memberships (no facts).

What must not live here: signature checks, reading payloads, mapping Price or Plan ids to tiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventpay.domain.memberships import FactKind, MembershipFact, Period

_K = FactKind


@dataclass(frozen=True, slots=True)
class StripeBillingEvent:
    """The fields of a Stripe event that matter; ``at`` is the event's ``created``.

    ``period`` is the invoice's subscription line period, or the subscription's current period;
    ``tier_code`` is the tier of the invoice line's or the subscription's price.
    """

    type: str
    at: datetime
    period: Period | None = None
    tier_code: str | None = None
    billing_reason: str | None = None
    attempt_count: int = 1
    next_payment_attempt: datetime | None = None
    status: str | None = None
    cancel_at_period_end: bool | None = None
    cancellation_reason: str | None = None
    ended_at: datetime | None = None


_STRIPE_SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
_STRIPE_LIVE_STATUSES = frozenset({"incomplete", "trialing", "active", "past_due", "paused"})
_STRIPE_SUBSCRIPTION_INVOICES = frozenset(
    {"subscription_create", "subscription_cycle", "subscription_update"}
)


def stripe_facts(event: StripeBillingEvent) -> tuple[MembershipFact, ...]:
    """The facts one Stripe event establishes (none for events memberships ignore)."""
    if event.type in _STRIPE_SUBSCRIPTION_EVENTS:
        if event.status is None:
            raise ValueError(f"{event.type} needs the subscription's status")
        return stripe_status_facts(event)
    if event.billing_reason not in _STRIPE_SUBSCRIPTION_INVOICES:
        return ()
    first = event.billing_reason == "subscription_create"
    if event.type == "invoice.paid":
        if first:
            kind = _K.FIRST_PAYMENT_SUCCEEDED
        elif event.attempt_count > 1:
            kind = _K.PAYMENT_RECOVERED
        else:
            kind = _K.RENEWAL_PAID
        return (MembershipFact(kind, event.at, event.period, event.tier_code),)
    if event.type != "invoice.payment_failed":
        return ()
    if first:
        failed = MembershipFact(_K.FIRST_PAYMENT_FAILED, event.at, event.period, attempt=1)
        return (failed,)
    failed = MembershipFact(
        _K.RENEWAL_FAILED, event.at, event.period, attempt=max(event.attempt_count, 1)
    )
    if event.next_payment_attempt is None:
        return failed, MembershipFact(_K.RETRIES_EXHAUSTED, event.at, event.period)
    retry = MembershipFact(
        _K.RETRY_SCHEDULED, event.at, event.period, retry_at=event.next_payment_attempt
    )
    return failed, retry


def stripe_status_facts(event: StripeBillingEvent) -> tuple[MembershipFact, ...]:
    """The facts a Stripe subscription's status and cancel flag establish (an event or a read)."""
    status = event.status
    facts: list[MembershipFact] = []
    if event.tier_code is not None:
        facts.append(MembershipFact(_K.TIER_REPORTED, event.at, tier_code=event.tier_code))
    if event.cancel_at_period_end is not None:
        kind = _K.CANCEL_REQUESTED if event.cancel_at_period_end else _K.CANCEL_WITHDRAWN
        facts.append(MembershipFact(kind, event.at))
    if status in _STRIPE_LIVE_STATUSES:
        pass
    elif status == "unpaid" or (
        status == "canceled" and event.cancellation_reason == "payment_failed"
    ):
        facts.append(MembershipFact(_K.RETRIES_EXHAUSTED, event.at, event.period))
    elif status == "canceled":
        ended = event.at if event.ended_at is None else event.ended_at
        facts.append(MembershipFact(_K.CANCELLED_NOW, ended))
    elif status == "incomplete_expired":
        facts.append(MembershipFact(_K.EXPIRED, event.at))
    else:
        raise ValueError(f"unknown Stripe subscription status: {status!r}")
    return tuple(facts)


@dataclass(frozen=True, slots=True)
class PayPalBillingEvent:
    """The fields of a PayPal event that matter; ``at`` is the event's ``create_time``.

    ``period`` is the billing cycle concerned (the cycle a sale paid or a failure left unpaid,
    from the subscription's ``billing_info``); ``cycles_completed`` counts the REGULAR cycles
    paid, the sale included; ``status`` is the subscription's status when the event carries it.
    """

    event_type: str
    at: datetime
    period: Period | None = None
    tier_code: str | None = None
    cycles_completed: int = 0
    failed_payments_count: int = 0
    status: str | None = None


_PAYPAL_IMPLIED_STATUS = {
    "BILLING.SUBSCRIPTION.CREATED": "APPROVAL_PENDING",
    "BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
    "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED",
    "BILLING.SUBSCRIPTION.EXPIRED": "EXPIRED",
}
_PAYPAL_LIVE_STATUSES = frozenset({"APPROVAL_PENDING", "APPROVED", "ACTIVE"})


def paypal_facts(event: PayPalBillingEvent) -> tuple[MembershipFact, ...]:
    """The facts one PayPal event establishes (none for events memberships ignore)."""
    kind: FactKind
    if event.event_type == "PAYMENT.SALE.COMPLETED":
        kind = _K.FIRST_PAYMENT_SUCCEEDED if event.cycles_completed <= 1 else _K.RENEWAL_PAID
        return (MembershipFact(kind, event.at, event.period, event.tier_code),)
    if event.event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
        kind = _K.FIRST_PAYMENT_FAILED if event.cycles_completed == 0 else _K.RENEWAL_FAILED
        attempt = max(event.failed_payments_count, 1)
        return (MembershipFact(kind, event.at, event.period, attempt=attempt),)
    if event.event_type == "BILLING.SUBSCRIPTION.UPDATED" or (
        event.event_type in _PAYPAL_IMPLIED_STATUS
    ):
        status = event.status or _PAYPAL_IMPLIED_STATUS.get(event.event_type)
        if status is None:
            raise ValueError(f"{event.event_type} needs the subscription's status")
        facts = paypal_status_facts(event, status)
        if event.tier_code is None:
            return facts
        return (MembershipFact(_K.TIER_REPORTED, event.at, tier_code=event.tier_code), *facts)
    return ()


def paypal_status_facts(event: PayPalBillingEvent, status: str) -> tuple[MembershipFact, ...]:
    """The facts a PayPal subscription status establishes (an event or a read)."""
    if status in _PAYPAL_LIVE_STATUSES:
        return ()
    if status == "SUSPENDED":
        if event.failed_payments_count == 0:
            return ()
        return (MembershipFact(_K.RETRIES_EXHAUSTED, event.at, event.period),)
    if status == "CANCELLED":
        return (MembershipFact(_K.CANCEL_REQUESTED, event.at),)
    if status == "EXPIRED":
        return (MembershipFact(_K.EXPIRED, event.at),)
    raise ValueError(f"unknown PayPal subscription status: {status!r}")
