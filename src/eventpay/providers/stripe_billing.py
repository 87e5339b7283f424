"""Stripe Billing for memberships: a Product and Price per tier, Customers, Subscriptions, and
what their events mean.

A tier's Price is found by its lookup key (`eventpay_membership_<code>_<amount><currency>_...`,
with the interval: a changed price in settings is a new Price, never an edited one) and
created with its Product when missing; found Prices are cached per process. A subscription is
created `default_incomplete` with `save_default_payment_method=on_subscription`: the buyer pays its
first invoice's PaymentIntent (named by `latest_invoice.confirmation_secret`, API version
2026-10-28) exactly like an order's, 3-D Secure included, and that card pays the renewals. The
subscription's metadata names the user and the tier (`eventpay_user_id`, `eventpay_tier`); a
tier change rewrites it, so every later invoice (whose `parent.subscription_details.metadata`
copies it) names the tier it pays for.

Events become provider-neutral facts through `domain.membership_events`; this module only reads
the fields. What later happens to a charge (`charge.refunded`, with the total refunded so far;
`charge.dispute.*`) is read as a `ChargeEvent`; whether that charge paid a membership is the
caller's to find. An invoice or subscription without `eventpay_tier` is not a membership (a sponsor
invoice, another integration's subscription) and is left alone.

What must not live here: deciding anything about a membership, storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from eventpay.domain import Money
from eventpay.domain.membership_events import StripeBillingEvent, stripe_facts
from eventpay.domain.membership_tiers import MembershipTier
from eventpay.domain.memberships import Period
from eventpay.ports.capabilities import (
    ChargeEvent,
    SubscriptionEvent,
    SubscriptionStart,
    TierChange,
)
from eventpay.providers.stripe import _call
from eventpay.providers.stripe_currency import from_stripe, to_stripe
from eventpay.providers.stripe_errors import malformed
from eventpay.providers.stripe_objects import id_of

TIER_KEY = "eventpay_tier"
USER_KEY = "eventpay_user_id"
_INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
_SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
# What Stripe writes on the PaymentIntent of a subscription's invoice.
_INVOICE_INTENT_DESCRIPTIONS = frozenset({"Subscription creation", "Subscription update"})


def lookup_key(tier: MembershipTier) -> str:
    price = tier.price
    return f"eventpay_membership_{tier.code}_{price.amount}{price.currency}_{tier.interval.value}"


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed(f"expected a Unix time, got {value!r}")
    return datetime.fromtimestamp(value, UTC)


def _period(start: Any, end: Any) -> Period | None:
    begin, finish = _instant(start), _instant(end)
    if begin is None or finish is None or finish <= begin:
        return None
    return Period(begin, finish)


def _invoice_period(invoice: Mapping[str, Any]) -> Period | None:
    lines = (invoice.get("lines") or {}).get("data") or []
    periods = [
        _period((ln.get("period") or {}).get("start"), (ln.get("period") or {}).get("end"))
        for ln in lines
    ]
    known = [p for p in periods if p is not None]
    if not known:
        return None
    return max(known, key=lambda p: (p.end, p.start))


def _subscription_period(sub: Mapping[str, Any]) -> Period | None:
    items = (sub.get("items") or {}).get("data") or []
    periods = [_period(i.get("current_period_start"), i.get("current_period_end")) for i in items]
    known = [p for p in periods if p is not None]
    return max(known, key=lambda p: (p.end, p.start)) if known else None


class StripeBilling:
    """The `SubscriptionProvider` capability over one Stripe client."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client
        self._prices: dict[str, str] = {}

    def price_for(self, tier: MembershipTier) -> str:
        """The id of the tier's recurring Price, created with its Product when missing."""
        key = lookup_key(tier)
        cached = self._prices.get(key)
        if cached is not None:
            return cached
        v1 = self._client.v1
        found = _call(lambda: v1.prices.list(params={"lookup_keys": [key], "limit": 1}))
        data = found.get("data") or []
        if data:
            price_id = str(data[0]["id"])
        else:
            product = _call(
                lambda: v1.products.create(
                    params={"name": f"{tier.name} membership", "metadata": {TIER_KEY: tier.code}},
                    options={"idempotency_key": f"membership-product:{key}"},
                )
            )
            price = _call(
                lambda: v1.prices.create(
                    params={
                        "product": str(product["id"]),
                        "unit_amount": to_stripe(tier.price),
                        "currency": tier.price.currency.lower(),
                        "recurring": {"interval": tier.interval.value},
                        "lookup_key": key,
                        "metadata": {TIER_KEY: tier.code},
                    },
                    options={"idempotency_key": f"membership-price:{key}"},
                )
            )
            price_id = str(price["id"])
        self._prices[key] = price_id
        return price_id

    def start_subscription(
        self,
        *,
        user_id: str,
        tier: MembershipTier,
        return_url: str | None,
        cancel_url: str | None,
        idempotency_key: str,
    ) -> SubscriptionStart:
        del return_url, cancel_url
        price_id = self.price_for(tier)
        v1 = self._client.v1
        customer = _call(
            lambda: v1.customers.create(
                params={"metadata": {USER_KEY: user_id}},
                options={"idempotency_key": f"{idempotency_key}:customer"},
            )
        )
        sub = _call(
            lambda: v1.subscriptions.create(
                params={
                    "customer": str(customer["id"]),
                    "items": [{"price": price_id}],
                    "payment_behavior": "default_incomplete",
                    "payment_settings": {"save_default_payment_method": "on_subscription"},
                    "metadata": {USER_KEY: user_id, TIER_KEY: tier.code},
                    "expand": ["latest_invoice.confirmation_secret"],
                },
                options={"idempotency_key": f"{idempotency_key}:subscription"},
            )
        )
        invoice = sub.get("latest_invoice")
        secret = None
        if isinstance(invoice, Mapping):
            confirmation = invoice.get("confirmation_secret")
            if isinstance(confirmation, Mapping):
                secret = confirmation.get("client_secret")
        if not isinstance(secret, str):
            raise malformed("a subscription without its first invoice's confirmation secret")
        return SubscriptionStart(provider_subscription_id=str(sub["id"]), client_secret=secret)

    def cancel_at_period_end(self, provider_subscription_id: str, *, idempotency_key: str) -> None:
        _call(
            lambda: self._client.v1.subscriptions.update(
                provider_subscription_id,
                params={"cancel_at_period_end": True},
                options={"idempotency_key": idempotency_key},
            )
        )

    def change_tier(
        self, provider_subscription_id: str, tier: MembershipTier, *, idempotency_key: str
    ) -> TierChange:
        price_id = self.price_for(tier)
        v1 = self._client.v1
        sub = _call(lambda: v1.subscriptions.retrieve(provider_subscription_id))
        items = (sub.get("items") or {}).get("data") or []
        if not items:
            raise malformed(f"subscription {provider_subscription_id} has no item")
        _call(
            lambda: v1.subscriptions.update(
                provider_subscription_id,
                params={
                    "items": [{"id": str(items[0]["id"]), "price": price_id}],
                    "proration_behavior": "create_prorations",
                    "metadata": {TIER_KEY: tier.code},
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return TierChange()

    def subscription_to_read(self, event_type: str, payload: Mapping[str, Any]) -> str | None:
        return None  # Stripe's events carry the whole object

    def read_subscription(self, provider_subscription_id: str) -> Mapping[str, Any]:
        sub = _call(lambda: self._client.v1.subscriptions.retrieve(provider_subscription_id))
        return dict(sub)

    def parse_charge_event(self, event_type: str, payload: Mapping[str, Any]) -> ChargeEvent | None:
        if event_type == "charge.refunded":
            charge = _event_object(payload)
            return ChargeEvent(
                kind="refund",
                ref=str(charge["id"]),
                charge_ref=str(charge["id"]),
                status="refunded",
                amount=from_stripe(charge.get("amount_refunded"), charge.get("currency")),
            )
        if not event_type.startswith("charge.dispute."):
            return None
        dispute = _event_object(payload)
        charge_ref = id_of(dispute.get("charge")) or id_of(dispute.get("payment_intent"))
        if charge_ref is None:
            raise malformed("a dispute without its charge")
        return ChargeEvent(
            kind="dispute",
            ref=str(dispute["id"]),
            charge_ref=charge_ref,
            status=str(dispute.get("status") or "unknown"),
            amount=from_stripe(dispute.get("amount"), dispute.get("currency")),
            reason=dispute.get("reason"),
        )

    def is_subscription_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        if not event_type.startswith("payment_intent."):
            return False
        intent = _event_object(payload)
        metadata = intent.get("metadata") or {}
        return "payment_id" not in metadata and intent.get("description") in (
            _INVOICE_INTENT_DESCRIPTIONS
        )

    def parse_subscription_event(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        read: Mapping[str, Any] | None = None,
    ) -> SubscriptionEvent | None:
        if event_type not in _INVOICE_EVENTS and event_type not in _SUBSCRIPTION_EVENTS:
            return None
        obj = _event_object(payload)
        at = _instant(payload.get("created"))
        if at is None:
            raise malformed("an event without its created time")
        if event_type in _INVOICE_EVENTS:
            return _invoice_event(event_type, obj, at)
        metadata = obj.get("metadata") or {}
        tier = metadata.get(TIER_KEY)
        if not tier:
            return None
        details = obj.get("cancellation_details") or {}
        event = StripeBillingEvent(
            type=event_type,
            at=at,
            period=_subscription_period(obj),
            tier_code=str(tier),
            status=str(obj.get("status")),
            cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
            cancellation_reason=details.get("reason"),
            ended_at=_instant(obj.get("ended_at")),
        )
        return SubscriptionEvent(provider_subscription_id=str(obj["id"]), facts=stripe_facts(event))


def _invoice_event(
    event_type: str, invoice: Mapping[str, Any], at: datetime
) -> SubscriptionEvent | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub_id = id_of(details.get("subscription"))
    tier = (details.get("metadata") or {}).get(TIER_KEY)
    if sub_id is None or not tier:
        return None
    period = _invoice_period(invoice)
    if period is None:
        return None
    event = StripeBillingEvent(
        type=event_type,
        at=at,
        period=period,
        tier_code=str(tier),
        billing_reason=invoice.get("billing_reason"),
        attempt_count=int(invoice.get("attempt_count") or 1),
        next_payment_attempt=_instant(invoice.get("next_payment_attempt")),
    )
    facts = stripe_facts(event)
    paid = event_type == "invoice.paid"
    amount: Money | None = None
    if paid:
        amount = from_stripe(invoice.get("amount_paid"), invoice.get("currency"))
    return SubscriptionEvent(
        provider_subscription_id=sub_id,
        facts=facts,
        payment_ref=str(invoice["id"]) if paid else None,
        amount=amount,
    )


def _event_object(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        raise malformed("an event without its object")
    return obj
