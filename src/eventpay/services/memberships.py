"""Memberships as the member asks for them: the tiers, my membership, subscribe, cancel, change.

A recipe per request: load, ask the domain, call the provider's `SubscriptionProvider`, write.
Subscribing creates the provider subscription first (outside any transaction: a provider call
never holds a database lock), then stores its row with nothing yet established; the first
payment's events make it a membership (`settlement.memberships`). Cancelling and changing tier
only ask the provider: what happened comes back as events, and the row changes then, so there
is one way a membership ever moves. A PayPal tier change waits for the buyer to approve the
revision at PayPal: its `approve_url` goes back to the caller and the tier moves only when
PayPal's event says so. Each request is audited.

A tier taken out of the settings after someone bought it is still shown (by its code, with no
tier details) but gives no member prices (`domain.membership_tiers.member_pricing_of`); a
change *to* a tier the platform does not sell is refused (422 `unknown_tier`).

What must not live here: how facts merge or what a status is (domain), event handling
(`webhooks` → `settlement.memberships`), HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventpay.domain.membership_status import (
    DunningPolicy,
    MembershipStatus,
    next_retry_at,
    status_at,
)
from eventpay.domain.membership_tiers import (
    MembershipError,
    MembershipTier,
    find_tier,
    tier_named,
)
from eventpay.domain.memberships import Membership
from eventpay.ports import UnitOfWorkFactory
from eventpay.ports.capabilities import (
    SubscriptionProvider,
    SubscriptionStart,
    TierChange,
    subscriptions_of,
)
from eventpay.ports.identity import Clock, Principal, ProviderName
from eventpay.ports.memberships import SubscriptionRecord
from eventpay.ports.providers import ProviderError, ProviderRegistry
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, NotFound, Unavailable
from eventpay.services.settlement.memberships import member_pricing_until, project

SUBSCRIBE_CLAIM = timedelta(minutes=2)
"""How long one subscribe request holds the user's claim (a crashed one lets go after this)."""
FIRST_PAYMENT_WAIT = timedelta(hours=24)
"""A subscription never paid stops blocking a new one after this (Stripe expires its own after
23 hours; PayPal sends nothing for an approval that was abandoned)."""

# A subscription still waiting for its first payment blocks a second one for a while.
_LIVE_STATUSES = frozenset(
    {
        MembershipStatus.ACTIVE,
        MembershipStatus.PAST_DUE,
        MembershipStatus.IN_GRACE,
        MembershipStatus.INCOMPLETE,
    }
)


@dataclass(frozen=True, slots=True)
class MembershipRules:
    """The platform's tiers and dunning policy, from settings."""

    tiers: Sequence[MembershipTier]
    policy: DunningPolicy


@dataclass(frozen=True, slots=True)
class MembershipView:
    """One subscription as its member sees it at ``at``; ``tier`` is None when the platform no
    longer sells the member's tier (``tier_code`` names it)."""

    record: SubscriptionRecord
    status: MembershipStatus
    tier_code: str
    tier: MembershipTier | None
    member_pricing_until: datetime | None
    next_payment_at: datetime | None


def view_of(record: SubscriptionRecord, at: datetime, rules: MembershipRules) -> MembershipView:
    state = record.state
    status = status_at(state, at, rules.policy)
    next_payment = next_retry_at(state, at, rules.policy)
    if next_payment is None and status is MembershipStatus.ACTIVE:
        next_payment = state.paid_through
    until = member_pricing_until(state, tiers=rules.tiers, policy=rules.policy)
    return MembershipView(
        record=record,
        status=status,
        tier_code=state.current_tier_code,
        tier=find_tier(rules.tiers, state.current_tier_code),
        member_pricing_until=None if until is None or until <= at else until,
        next_payment_at=next_payment,
    )


def _tier(rules: MembershipRules, code: str) -> MembershipTier:
    try:
        return tier_named(rules.tiers, code)
    except MembershipError as exc:
        raise InvalidRequest("unknown_tier", str(exc), {"tier": code}) from None


def _gateway(providers: ProviderRegistry, name: ProviderName) -> SubscriptionProvider:
    billing = subscriptions_of(providers.get(name))
    if billing is None:
        raise InvalidRequest("unsupported_provider", f"{name.value} sells no memberships")
    return billing.gateway


def _unavailable(exc: ProviderError) -> Unavailable:
    return Unavailable("provider_unavailable", f"the provider did not answer: {exc.code}")


def my_memberships(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, rules: MembershipRules, clock: Clock
) -> list[MembershipView]:
    """The caller's subscriptions, newest first, as of now."""
    now = clock()
    with uow_factory() as uow:
        records = uow.memberships.for_user(caller.user_id)
    return [view_of(r, now, rules) for r in records]


def _current(
    records: Sequence[SubscriptionRecord], now: datetime, rules: MembershipRules
) -> SubscriptionRecord | None:
    for record in records:
        status = status_at(record.state, now, rules.policy)
        if status is MembershipStatus.INCOMPLETE and now - record.created_at > FIRST_PAYMENT_WAIT:
            # Never paid, and long abandoned (a PayPal approval sends no event when dropped).
            continue
        if status in _LIVE_STATUSES:
            return record
    return None


def subscribe(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    provider: ProviderName,
    caller: Principal,
    tier_code: str,
    return_url: str | None,
    cancel_url: str | None,
    rules: MembershipRules,
    clock: Clock,
    idempotency_key: str | None = None,
) -> tuple[MembershipView, SubscriptionStart]:
    """Start a paid membership at ``provider``; the buyer pays with what comes back."""
    tier = _tier(rules, tier_code)
    if tier.is_free:
        raise InvalidRequest("free_tier", f"the {tier.name} tier needs no subscription")
    subscriptions = _gateway(providers, provider)
    now = clock()
    # One subscribe per user at a time, across processes: two clicks must not start two
    # subscriptions at the provider (each would charge, then renew, every year).
    with uow_factory() as uow:
        claimed = uow.memberships.claim_subscribe(
            caller.user_id, until=now + SUBSCRIBE_CLAIM, now=now
        )
        live = _current(uow.memberships.for_user(caller.user_id), now, rules)
        uow.commit()
    if not claimed:
        raise Conflict(
            "subscribe_in_progress",
            "a membership is being started for you right now; look at it in a moment",
            {},
        )
    try:
        if live is not None:
            raise Conflict(
                "already_subscribed",
                "you already have a membership; change its tier instead",
                {"membership_id": live.id},
            )
        return _start(
            uow_factory=uow_factory,
            subscriptions=subscriptions,
            provider=provider,
            caller=caller,
            tier=tier,
            return_url=return_url,
            cancel_url=cancel_url,
            rules=rules,
            clock=clock,
            idempotency_key=idempotency_key,
        )
    finally:
        with uow_factory() as uow:
            uow.memberships.release_subscribe(caller.user_id)
            uow.commit()


def _start(
    *,
    uow_factory: UnitOfWorkFactory,
    subscriptions: SubscriptionProvider,
    provider: ProviderName,
    caller: Principal,
    tier: MembershipTier,
    return_url: str | None,
    cancel_url: str | None,
    rules: MembershipRules,
    clock: Clock,
    idempotency_key: str | None,
) -> tuple[MembershipView, SubscriptionStart]:
    key = idempotency_key or uuid.uuid4().hex
    try:
        start = subscriptions.start_subscription(
            user_id=caller.user_id,
            tier=tier,
            return_url=return_url,
            cancel_url=cancel_url,
            idempotency_key=f"membership:{caller.user_id}:{key}",
        )
    except ProviderError as exc:
        raise _unavailable(exc) from None
    now = clock()
    with uow_factory() as uow:
        record = uow.memberships.by_provider_id(provider, start.provider_subscription_id)
        if record is None:
            record = SubscriptionRecord(
                id=f"ms_{uuid.uuid4().hex}",
                user_id=caller.user_id,
                provider=provider,
                provider_subscription_id=start.provider_subscription_id,
                tier_code=tier.code,
                state=Membership(tier_code=tier.code),
                created_at=now,
                updated_at=now,
            )
            uow.memberships.add(record)
            project(uow, record, tiers=rules.tiers, policy=rules.policy)
            audit.record(
                uow,
                entity_type="membership",
                entity_id=record.id,
                action="membership.subscribed",
                actor=caller,
                now=now,
                details={
                    "tier": tier.code,
                    "provider": provider.value,
                    "provider_subscription_id": start.provider_subscription_id,
                },
            )
            uow.commit()
    return view_of(record, now, rules), start


def _mine(
    uow_factory: UnitOfWorkFactory, caller: Principal, rules: MembershipRules, now: datetime
) -> SubscriptionRecord:
    with uow_factory() as uow:
        records = uow.memberships.for_user(caller.user_id)
    current = _current(records, now, rules)
    if current is None:
        raise NotFound("no_membership", "you have no membership to change")
    return current


def cancel(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    rules: MembershipRules,
    clock: Clock,
) -> MembershipView:
    """Ask the provider to end the membership at the paid period's end (nothing is refunded)."""
    record = _mine(uow_factory, caller, rules, clock())
    gateway = _gateway(providers, record.provider)
    try:
        gateway.cancel_at_period_end(
            record.provider_subscription_id, idempotency_key=f"membership-cancel:{record.id}"
        )
    except ProviderError as exc:
        raise _unavailable(exc) from None
    now = clock()
    with uow_factory() as uow:
        audit.record(
            uow,
            entity_type="membership",
            entity_id=record.id,
            action="membership.cancel_requested",
            actor=caller,
            now=now,
            details={"provider": record.provider.value},
        )
        uow.commit()
    return view_of(record, now, rules)


def change_tier(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    tier_code: str,
    rules: MembershipRules,
    clock: Clock,
) -> tuple[MembershipView, TierChange]:
    """Move the membership to another paid tier; the provider prorates the difference (Stripe)
    or waits for the buyer to approve it at the answer's ``approve_url`` (PayPal)."""
    tier = _tier(rules, tier_code)
    if tier.is_free:
        raise InvalidRequest("free_tier", "cancel the membership to go back to the free tier")
    now = clock()
    record = _mine(uow_factory, caller, rules, now)
    current_code = record.state.current_tier_code
    current = find_tier(rules.tiers, current_code)
    if record.tier_code == tier.code:
        raise Conflict("same_tier", f"the membership is already {tier.name}")
    # From a tier no longer sold any paid tier may be chosen: its interval is not known here,
    # and the provider bills the new price by its own rules.
    if current is not None and current.interval is not tier.interval:
        raise InvalidRequest(
            "interval_change", "a tier billed over another interval is a new membership"
        )
    gateway = _gateway(providers, record.provider)
    try:
        change = gateway.change_tier(
            record.provider_subscription_id,
            tier,
            idempotency_key=f"membership-change:{record.id}:{tier.code}:{record.updated_at.isoformat()}",
        )
    except ProviderError as exc:
        raise _unavailable(exc) from None
    now = clock()
    pending = change.approve_url is not None
    with uow_factory() as uow:
        stored = uow.memberships.get(record.id, for_update=True)
        assert stored is not None
        if not pending:
            stored.tier_code = tier.code
            stored.updated_at = now
            uow.memberships.save(stored)
        audit.record(
            uow,
            entity_type="membership",
            entity_id=record.id,
            action="membership.tier_change_requested" if pending else "membership.tier_changed",
            actor=caller,
            now=now,
            details={"from": current_code, "to": tier.code, "awaits_approval": pending},
        )
        uow.commit()
    return view_of(stored, now, rules), change
