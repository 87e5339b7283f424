"""Settling a membership subscription's events: merge the facts, project, post, audit.

One verified provider event about a subscription (`ports.capabilities.SubscriptionEvent`) is
merged into the stored row in the event's unit of work (`domain.memberships.apply_fact`: any
order, any repetition, same row), the `memberships` projection that pricing reads is rewritten
from the merge, and every change is audited (`membership.facts_applied`). Money a paid invoice
or sale brought posts once to the ledger, keyed `membership:<provider>:<invoice or sale id>`:
into the provider's clearing account, all of it platform revenue (no organizer sells a
membership). An event about a subscription eventpay did not create changes nothing.

What happens to a membership charge afterwards settles here too, each posted once by its
cause: the provider's fee (`membership:<provider>:<charge>:fee`, an expense out of the
clearing account, from the PayPal sale or read from Stripe's balance transaction by
`services.membership_fees`); a refund (`membership:<provider>:<charge>:refunded:<total>`, the
revenue given back, by the total refunded so far, so repeated and partial refunds post each
new part once); a dispute's status is recorded on the charge and audited (the money moves only
if the dispute is lost, which the provider's balance then shows). A refund does not end the
membership: cancelling is a separate decision, the member's or an admin's at the provider.

What must not live here: provider calls, HTTP, reading event payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from eventpay.domain import Money
from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, build
from eventpay.domain.membership_disputes import dispute_status_after
from eventpay.domain.membership_status import (
    DunningPolicy,
    MembershipStatus,
    grace_until,
    status_at,
)
from eventpay.domain.membership_tiers import MembershipTier, member_pricing_of
from eventpay.domain.memberships import Membership, apply_fact
from eventpay.domain.schedule import backoff_delay
from eventpay.ports import PaymentUpdate, UnitOfWork
from eventpay.ports.capabilities import ChargeEvent, SubscriptionEvent, subscriptions_of
from eventpay.ports.identity import ProviderName
from eventpay.ports.memberships import ChargeRecord, SubscriptionRecord
from eventpay.services import audit

MEMBERSHIP_PAID = "membership_paid"
MEMBERSHIP_REFUNDED = "membership_refunded"
PROVIDER_FEE = "provider_fee"
FEE_RECHECK = timedelta(minutes=1)
FEE_RECHECK_CAP = timedelta(days=1)


def member_pricing_until(
    m: Membership, *, tiers: Sequence[MembershipTier], policy: DunningPolicy
) -> datetime | None:
    """The instant member pricing ends if nothing more is paid (grace included); None when it
    never applies (nothing paid yet, or a tier without member prices, a tier no longer in the
    settings included: `domain.membership_tiers.member_pricing_of`)."""
    if m.paid is None or not member_pricing_of(tiers, m.current_tier_code):
        return None
    end = m.paid.period.end
    if m.cancel_requested:
        until = end
    else:
        lasting = grace_until(replace(m, expired_at=None, cancelled_at=None), policy)
        until = end if lasting is None else lasting
        if m.expired_at is not None:
            until = max(end, min(until, m.expired_at))
    if m.cancelled_at is not None:
        until = min(until, m.cancelled_at)
    return until


def project(
    uow: UnitOfWork,
    record: SubscriptionRecord,
    *,
    tiers: Sequence[MembershipTier],
    policy: DunningPolicy,
) -> None:
    """Rewrite the subscription's member-pricing window from its merged facts."""
    until = member_pricing_until(record.state, tiers=tiers, policy=policy)
    start = record.created_at
    if record.state.paid is not None:
        start = min(start, record.state.paid.period.start)
    uow.memberships.project(
        record.id, user_id=record.user_id, valid_from=start, valid_until=until or start
    )


def payment_transaction(
    *, provider: ProviderName, payment_ref: str, amount: Money
) -> LedgerTransaction | None:
    """Membership money in: held at the provider, all of it the platform's revenue."""
    currency = amount.currency
    return build(
        cause=f"membership:{provider.value}:{payment_ref}",
        kind=MEMBERSHIP_PAID,
        amounts={
            Account(AccountKind.PROVIDER_CLEARING, provider.value, currency): amount.amount,
            Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency): -amount.amount,
        },
    )


def fee_transaction(
    *, provider: ProviderName, charge_ref: str, fee: Money
) -> LedgerTransaction | None:
    """The provider kept ``fee`` of a membership charge: an expense out of its clearing."""
    return build(
        cause=f"membership:{provider.value}:{charge_ref}:fee",
        kind=PROVIDER_FEE,
        amounts={
            Account(AccountKind.PROVIDER_FEE_EXPENSE, provider.value, fee.currency): fee.amount,
            Account(AccountKind.PROVIDER_CLEARING, provider.value, fee.currency): -fee.amount,
        },
    )


def refund_transaction(
    *, provider: ProviderName, charge_ref: str, total: int, returned: Money
) -> LedgerTransaction | None:
    """``returned`` more of a membership charge went back (``total`` refunded so far)."""
    currency = returned.currency
    return build(
        cause=f"membership:{provider.value}:{charge_ref}:refunded:{total}",
        kind=MEMBERSHIP_REFUNDED,
        amounts={
            Account(AccountKind.PROVIDER_CLEARING, provider.value, currency): -returned.amount,
            Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency): returned.amount,
        },
    )


def charge_fee_known(
    uow: UnitOfWork, charge: ChargeRecord, fee: Money | None, *, actor: str, now: datetime
) -> bool:
    """What the provider kept of ``charge`` (locked by the caller): posted once; None (not
    known yet) schedules the next read. True when the fee was booked now."""
    if charge.fee is not None:
        return False
    if fee is None or fee.currency != charge.currency or fee.is_negative():
        charge.fee_checks += 1
        charge.fee_check_at = now + backoff_delay(
            attempts=charge.fee_checks, base=FEE_RECHECK, cap=FEE_RECHECK_CAP, jitter=0.5
        )
        uow.memberships.save_charge(charge)
        return False
    charge.fee = fee.amount
    charge.fee_check_at = None
    uow.memberships.save_charge(charge)
    transaction = fee_transaction(provider=charge.provider, charge_ref=charge.ref, fee=fee)
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    audit.record(
        uow,
        entity_type="membership_charge",
        entity_id=charge.id,
        action="membership.fee_posted",
        actor=actor,
        now=now,
        details={"ref": charge.ref, "fee": fee.amount, "currency": fee.currency},
    )
    return True


def apply_charge_event(
    uow: UnitOfWork, event: ChargeEvent, *, provider: ProviderName, actor: str, now: datetime
) -> bool:
    """Record a refund or dispute of a membership charge; False when the charge paid no
    membership of ours."""
    charge = uow.memberships.charge(provider, event.charge_ref, for_update=True)
    if charge is None:
        return False
    details: dict[str, Any] = {"ref": event.ref, "charge": charge.ref, "status": event.status}
    if event.kind == "dispute":
        kept = dispute_status_after(charge.dispute_status, event.status)
        if charge.dispute_status == kept:
            return True
        charge.dispute_status = kept
        uow.memberships.save_charge(charge)
        if event.amount is not None:
            details |= {"amount": event.amount.amount, "currency": event.amount.currency}
        audit.record(
            uow,
            entity_type="membership_charge",
            entity_id=charge.id,
            action="membership.charge_disputed",
            actor=actor,
            now=now,
            details={**details, "reason": event.reason},
        )
        return True
    total = event.amount
    if total is None or total.currency != charge.currency:
        raise ValueError(
            f"refund {event.ref} of {charge.ref} without its total in {charge.currency}"
        )
    returned = min(total.amount, charge.amount) - charge.refunded
    if returned <= 0:
        return True
    transaction = refund_transaction(
        provider=provider,
        charge_ref=charge.ref,
        total=charge.refunded + returned,
        returned=Money(returned, charge.currency),
    )
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    charge.refunded += returned
    uow.memberships.save_charge(charge)
    audit.record(
        uow,
        entity_type="membership_charge",
        entity_id=charge.id,
        action="membership.charge_refunded",
        actor=actor,
        now=now,
        details={
            **details,
            "returned": returned,
            "refunded": charge.refunded,
            "currency": charge.currency,
        },
    )
    return True


def apply_subscription_event(
    uow: UnitOfWork,
    event: SubscriptionEvent,
    *,
    provider: ProviderName,
    tiers: Sequence[MembershipTier],
    policy: DunningPolicy,
    actor: str,
    now: datetime,
) -> bool:
    """Merge `event` into its subscription; False when eventpay does not know the subscription."""
    record = uow.memberships.by_provider_id(
        provider, event.provider_subscription_id, for_update=True
    )
    if record is None:
        return False
    before = record.state
    state = before
    for fact in event.facts:
        state = apply_fact(state, fact).membership
    if state != before:
        record.state = state
        if state.plan is not None and state.plan != before.plan:
            # The provider's word on the tier is what the next change starts from.
            record.tier_code = state.current_tier_code
        record.updated_at = now
        uow.memberships.save(record)
        project(uow, record, tiers=tiers, policy=policy)
        audit.record(
            uow,
            entity_type="membership",
            entity_id=record.id,
            action="membership.facts_applied",
            actor=actor,
            now=now,
            details={
                "facts": [f.kind.value for f in event.facts],
                "status": status_at(state, now, policy).value,
                "tier": state.current_tier_code,
                "paid_through": None
                if state.paid_through is None
                else state.paid_through.isoformat(),
            },
        )
    if event.payment_ref is not None and event.amount is not None and event.amount.is_positive():
        transaction = payment_transaction(
            provider=provider, payment_ref=event.payment_ref, amount=event.amount
        )
        if transaction is not None and uow.ledger.post(transaction, at=now):
            audit.record(
                uow,
                entity_type="membership",
                entity_id=record.id,
                action="membership.payment_posted",
                actor=actor,
                now=now,
                details={
                    "payment_ref": event.payment_ref,
                    "amount": event.amount.amount,
                    "currency": event.amount.currency,
                },
            )
        if event.charge_ref is not None:
            uow.memberships.record_charge(
                provider,
                ref=event.charge_ref,
                payment_ref=event.payment_ref,
                amount=event.amount.amount,
                currency=event.amount.currency,
                at=now,
            )
            if event.fee is not None:
                charge = uow.memberships.charge(provider, event.charge_ref, for_update=True)
                if charge is not None:
                    charge_fee_known(uow, charge, event.fee, actor=actor, now=now)
    return True


def status_of(record: SubscriptionRecord, at: datetime, policy: DunningPolicy) -> MembershipStatus:
    return status_at(record.state, at, policy)


def apply_provider_event(
    uow: UnitOfWork,
    provider: object,
    *,
    name: ProviderName,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
    read: Mapping[str, Any] | None = None,
) -> bool | None:
    """Settle a verified event if it concerns a membership subscription: None when it does not,
    False when the subscription is not one of ours, True when it was applied. ``read`` is the
    subscription `subscription_to_read` named, read before this unit of work began."""
    billing = subscriptions_of(provider)
    if billing is None:
        return None
    parsed = billing.gateway.parse_subscription_event(event_type, payload, read=read)
    if parsed is None:
        charged = billing.gateway.parse_charge_event(event_type, payload)
        if charged is None:
            return None
        return apply_charge_event(
            uow, charged, provider=name, actor=f"{name.value}-webhook", now=now
        )
    return apply_subscription_event(
        uow,
        parsed,
        provider=name,
        tiers=billing.tiers,
        policy=billing.policy,
        actor=f"{name.value}-webhook",
        now=now,
    )


def subscription_to_read(
    provider: object, event_type: str, payload: Mapping[str, Any]
) -> str | None:
    """The subscription the provider must be asked about before this event can be settled
    (the caller reads it with no transaction open); None when the event needs no read."""
    billing = subscriptions_of(provider)
    return None if billing is None else billing.gateway.subscription_to_read(event_type, payload)


def is_subscription_payment(provider: object, event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether a payment event pays a subscription's invoice (its own events settle it)."""
    billing = subscriptions_of(provider)
    return billing is not None and billing.gateway.is_subscription_payment(event_type, payload)


def record_subscription_charge(
    uow: UnitOfWork,
    *,
    provider: ProviderName,
    update: PaymentUpdate,
    now: datetime,
) -> bool:
    """A charge that paid a membership invoice (its invoice event settles the membership):
    remember it, so reconciliation finds the provider's movement ours; False when known."""
    ref = update.capture_id or update.provider_ref
    amount = update.amount_received
    if amount is None and update.amount is not None:
        amount = update.amount.amount
    if amount is None or update.amount is None:
        return False
    return uow.memberships.record_charge(
        provider,
        ref=ref,
        payment_ref=update.provider_ref,
        amount=amount,
        currency=update.amount.currency,
        at=now,
    )
