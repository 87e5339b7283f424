"""PayPal subscriptions for memberships: one catalog product, a billing plan per tier, and what
subscription events mean.

All tiers are plans of one product (`EVENTPAY-MEMBERSHIP`), because PayPal revises a
subscription only to another plan of the same product. A tier's plan is named
`eventpay-membership:<code>:<amount><currency>:<interval>`, so a changed price in settings is a
new plan, and a subscription read back (`fields=plan`) names its tier. Every write carries a
`PayPal-Request-Id`. The buyer approves a new subscription at its `approve` link; the platform
never collects a payment itself: PayPal bills each cycle and reports `PAYMENT.SALE.COMPLETED`.

A sale or a `BILLING.SUBSCRIPTION.*` event is parsed with the subscription it concerns (its plan
and billing info), which the webhook worker reads first (`subscription_to_read`,
`read_subscription`) with no database transaction open, and turned into facts by
`domain.membership_events.paypal_facts`: the period a sale pays starts at the sale and lasts
the tier's interval. A subscription on a plan that is not one of ours is left alone. A tier
change (`revise`) needs the buyer's consent at PayPal: its `approve` link goes back to the
buyer, and the plan changes (`BILLING.SUBSCRIPTION.UPDATED`) once they approved; the new price
bills from the next billing date: PayPal does not prorate.

What must not live here: deciding anything about a membership, storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from eventpay.domain import Money
from eventpay.domain.membership_events import PayPalBillingEvent, paypal_facts
from eventpay.domain.membership_tiers import BillingInterval, MembershipTier
from eventpay.domain.memberships import Period
from eventpay.ports.capabilities import (
    ChargeEvent,
    SubscriptionEvent,
    SubscriptionStart,
    TierChange,
)
from eventpay.providers.paypal_http import PayPalApi, PayPalRejected, malformed
from eventpay.providers.paypal_money import from_paypal, to_paypal

PRODUCT_ID = "EVENTPAY-MEMBERSHIP"
_PLAN_PREFIX = "eventpay-membership:"
_SUBSCRIPTIONS = "/v1/billing/subscriptions"
_EVENTS = frozenset(
    {
        "PAYMENT.SALE.COMPLETED",
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "BILLING.SUBSCRIPTION.RE-ACTIVATED",
        "BILLING.SUBSCRIPTION.UPDATED",
        "BILLING.SUBSCRIPTION.SUSPENDED",
        "BILLING.SUBSCRIPTION.CANCELLED",
        "BILLING.SUBSCRIPTION.EXPIRED",
        "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
    }
)
_UNIT = {BillingInterval.YEAR: "YEAR", BillingInterval.MONTH: "MONTH"}


def plan_name(tier: MembershipTier) -> str:
    price = tier.price
    return f"{_PLAN_PREFIX}{tier.code}:{price.amount}{price.currency}:{tier.interval.value}"


def _tier_of(plan: Mapping[str, Any]) -> tuple[str, BillingInterval] | None:
    name = str(plan.get("name") or "")
    if not name.startswith(_PLAN_PREFIX):
        return None
    parts = name[len(_PLAN_PREFIX) :].split(":")
    if len(parts) != 3:
        return None
    return parts[0], BillingInterval(parts[2])


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _after(start: datetime, interval: BillingInterval) -> datetime:
    if interval is BillingInterval.YEAR:
        try:
            return start.replace(year=start.year + 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year + 1, day=28)
    month = start.month % 12 + 1
    year = start.year + (start.month == 12)
    day = start.day
    while True:
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _approve_link(answer: Mapping[str, Any]) -> str | None:
    links = answer.get("links") or ()
    return next((str(ln["href"]) for ln in links if ln.get("rel") == "approve"), None)


def _regular_cycles(subscription: Mapping[str, Any]) -> int:
    info = subscription.get("billing_info") or {}
    for execution in info.get("cycle_executions") or ():
        if execution.get("tenure_type") == "REGULAR":
            return int(execution.get("cycles_completed") or 0)
    return 0


class PayPalBilling:
    """The `SubscriptionProvider` capability over the PayPal REST client."""

    def __init__(self, api: PayPalApi) -> None:
        self._api = api
        self._plans: dict[str, str] = {}

    def _product(self) -> None:
        try:
            self._api.call(
                "POST",
                "/v1/catalogs/products",
                json={"id": PRODUCT_ID, "name": "eventpay membership", "type": "SERVICE"},
                request_id=f"membership-product:{PRODUCT_ID}",
            )
        except PayPalRejected as exc:
            if exc.code != "DUPLICATE_ID" and "DUPLICATE" not in str(exc.body):
                raise

    def plan_for(self, tier: MembershipTier) -> str:
        """The id of the tier's active plan, created (with the product) when missing."""
        name = plan_name(tier)
        cached = self._plans.get(name)
        if cached is not None:
            return cached
        listed = self._api.call(
            "GET", "/v1/billing/plans", params={"product_id": PRODUCT_ID, "page_size": "20"}
        )
        for plan in listed.get("plans") or ():
            if plan.get("name") == name and plan.get("status") == "ACTIVE":
                self._plans[name] = str(plan["id"])
                return str(plan["id"])
        self._product()
        cycle = {
            "frequency": {"interval_unit": _UNIT[tier.interval], "interval_count": 1},
            "tenure_type": "REGULAR",
            "sequence": 1,
            "total_cycles": 0,
            "pricing_scheme": {"fixed_price": to_paypal(tier.price)},
        }
        created = self._api.call(
            "POST",
            "/v1/billing/plans",
            json={
                "product_id": PRODUCT_ID,
                "name": name,
                "billing_cycles": [cycle],
                "payment_preferences": {
                    "auto_bill_outstanding": True,
                    "payment_failure_threshold": 3,
                },
            },
            request_id=f"membership-plan:{name}",
        )
        self._plans[name] = str(created["id"])
        return str(created["id"])

    def start_subscription(
        self,
        *,
        user_id: str,
        tier: MembershipTier,
        return_url: str | None,
        cancel_url: str | None,
        idempotency_key: str,
    ) -> SubscriptionStart:
        body: dict[str, Any] = {"plan_id": self.plan_for(tier), "custom_id": user_id[:127]}
        if return_url is not None:
            body["application_context"] = {
                "return_url": return_url,
                "cancel_url": cancel_url or return_url,
            }
        created = self._api.call("POST", _SUBSCRIPTIONS, json=body, request_id=idempotency_key)
        approve = _approve_link(created)
        if approve is None:
            raise malformed("a subscription without its approve link")
        return SubscriptionStart(provider_subscription_id=str(created["id"]), approve_url=approve)

    def cancel_at_period_end(self, provider_subscription_id: str, *, idempotency_key: str) -> None:
        self._api.call(
            "POST",
            f"{_SUBSCRIPTIONS}/{provider_subscription_id}/cancel",
            json={"reason": "Cancelled by the member"},
            request_id=idempotency_key,
        )

    def change_tier(
        self, provider_subscription_id: str, tier: MembershipTier, *, idempotency_key: str
    ) -> TierChange:
        revised = self._api.call(
            "POST",
            f"{_SUBSCRIPTIONS}/{provider_subscription_id}/revise",
            json={"plan_id": self.plan_for(tier)},
            request_id=idempotency_key,
        )
        return TierChange(approve_url=_approve_link(revised))

    def subscription_to_read(self, event_type: str, payload: Mapping[str, Any]) -> str | None:
        if event_type not in _EVENTS:
            return None
        resource = payload.get("resource")
        if not isinstance(resource, Mapping):
            return None
        sale = event_type == "PAYMENT.SALE.COMPLETED"
        sub_id = resource.get("billing_agreement_id") if sale else resource.get("id")
        return sub_id if isinstance(sub_id, str) else None

    def read_subscription(self, provider_subscription_id: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self._api.call(
            "GET", f"{_SUBSCRIPTIONS}/{provider_subscription_id}", params={"fields": "plan"}
        )
        return found

    def is_subscription_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        return False

    def parse_charge_event(self, event_type: str, payload: Mapping[str, Any]) -> ChargeEvent | None:
        """`PAYMENT.SALE.REFUNDED` (the refund names its `sale_id` and the sale's
        `total_refunded_amount`); PayPal's disputes are the disputes adapter's."""
        if event_type != "PAYMENT.SALE.REFUNDED":
            return None
        refund = payload.get("resource")
        if not isinstance(refund, Mapping) or not isinstance(refund.get("sale_id"), str):
            raise malformed(f"{event_type} without its sale")
        return ChargeEvent(
            kind="refund",
            ref=str(refund.get("id")),
            charge_ref=str(refund["sale_id"]),
            status=str(refund.get("state") or "completed"),
            amount=_refunded_so_far(refund),
        )

    def parse_subscription_event(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        read: Mapping[str, Any] | None = None,
    ) -> SubscriptionEvent | None:
        if event_type not in _EVENTS:
            return None
        resource = payload.get("resource")
        if not isinstance(resource, Mapping):
            raise malformed(f"{event_type} without its resource")
        at = _instant(payload.get("create_time"))
        if at is None:
            raise malformed(f"{event_type} without its create_time")
        sale = event_type == "PAYMENT.SALE.COMPLETED"
        sub_id = resource.get("billing_agreement_id") if sale else resource.get("id")
        if not isinstance(sub_id, str):
            return None
        if read is None or read.get("id", sub_id) != sub_id:
            raise ValueError(f"{event_type} is parsed with its subscription {sub_id} read first")
        subscription = read
        tier = _tier_of(subscription.get("plan") or {})
        if tier is None:
            return None
        code, interval = tier
        # A subscription event carries the subscription as it was; a sale does not.
        current = subscription if sale else resource
        info = current.get("billing_info") or {}
        period: Period | None = None
        if sale:
            start = _instant(resource.get("create_time")) or at
            period = Period(start, _after(start, interval))
        else:
            last = _instant((info.get("last_payment") or {}).get("time"))
            if last is not None:
                period = Period(last, _after(last, interval))
        if event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED" and period is not None:
            period = Period(period.end, _after(period.end, interval))
        elif event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
            start = _instant(current.get("start_time")) or at
            period = Period(start, _after(start, interval))
        if period is None and event_type == "BILLING.SUBSCRIPTION.SUSPENDED":
            period = Period(at, at + timedelta(days=1))
        event = PayPalBillingEvent(
            event_type=event_type,
            at=at,
            period=period,
            tier_code=code,
            cycles_completed=_regular_cycles(current),
            failed_payments_count=int(info.get("failed_payments_count") or 0),
            status=str(current.get("status") or "") or None,
        )
        facts = paypal_facts(event)
        if not sale:
            return SubscriptionEvent(provider_subscription_id=sub_id, facts=facts)
        amount = resource.get("amount") or {}
        currency = amount.get("currency")
        fee = resource.get("transaction_fee") or {}
        return SubscriptionEvent(
            provider_subscription_id=sub_id,
            facts=facts,
            payment_ref=str(resource["id"]),
            amount=from_paypal({"currency": currency, "value": amount.get("total")}),
            charge_ref=str(resource["id"]),
            fee=from_paypal({"currency": fee.get("currency", currency), "value": fee["value"]})
            if fee.get("value") is not None
            else None,
        )


def _refunded_so_far(refund: Mapping[str, Any]) -> Money | None:
    """The sale's total refunded so far: `total_refunded_amount`, else the refund's own
    `amount` (`{"total", "currency"}`, negative in some of PayPal's samples).

    Not every delivery carries the running total (PayPal's own sample of this event does not).
    The refund's amount then stands for it: right for the first refund of a sale; a later partial
    refund without its total is under-counted (the settlement gives back only what exceeds what
    was already refunded), never counted twice. None when neither is there.
    """
    total = refund.get("total_refunded_amount")
    if isinstance(total, Mapping) and total:
        return from_paypal(total)
    own = refund.get("amount")
    if not isinstance(own, Mapping) or own.get("total") is None:
        return None
    value = str(own["total"]).strip().removeprefix("-")
    return from_paypal({"currency": own.get("currency"), "value": value})
