"""Settling a membership subscription's events: merge the facts, project, post, audit.

One verified provider event about a subscription (`ports.capabilities.SubscriptionEvent`) is
merged into the stored row in the event's unit of work (`domain.memberships.apply_fact`: any
order, any repetition, same row), the `memberships` projection that pricing reads is rewritten
from the merge, and every change is audited (`membership.facts_applied`). Money a paid invoice
or sale brought posts once to the ledger, keyed `membership:<provider>:<invoice or sale id>`:
into the provider's clearing account, all of it platform revenue (no organizer sells a
membership). An event about a subscription eventpay did not create changes nothing.

What must not live here: provider calls, HTTP, reading event payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from eventpay.domain import Money
from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, build
from eventpay.domain.membership_status import (
    DunningPolicy,
    MembershipStatus,
    grace_until,
    status_at,
)
from eventpay.domain.membership_tiers import MembershipTier, tier_named
from eventpay.domain.memberships import Membership, apply_fact
from eventpay.ports import PaymentUpdate, UnitOfWork
from eventpay.ports.capabilities import SubscriptionEvent, subscriptions_of
from eventpay.ports.identity import ProviderName
from eventpay.ports.memberships import SubscriptionRecord
from eventpay.services import audit

MEMBERSHIP_PAID = "membership_paid"


def member_pricing_until(
    m: Membership, *, tiers: Sequence[MembershipTier], policy: DunningPolicy
) -> datetime | None:
    """The instant member pricing ends if nothing more is paid (grace included); None when it
    never applies (nothing paid yet, or a tier without member prices)."""
    if m.paid is None or not tier_named(tiers, m.current_tier_code).gives_member_pricing:
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
) -> bool | None:
    """Settle a verified event if it concerns a membership subscription: None when it does not,
    False when the subscription is not one of ours, True when it was applied."""
    billing = subscriptions_of(provider)
    if billing is None:
        return None
    parsed = billing.gateway.parse_subscription_event(event_type, payload)
    if parsed is None:
        return None
    return apply_subscription_event(
        uow,
        parsed,
        provider=name,
        tiers=billing.tiers,
        policy=billing.policy,
        actor=f"{name.value}-webhook",
        now=now,
    )


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
