"""How subscriptions and their payments look on the wire: the subscription, the v1 sale, the
transaction of the subscription's transaction list.

`render_subscription` adds what PayPal computes on each read: `billing_info` (outstanding
balance, one `cycle_executions` entry per billing cycle of the plan, `last_payment`,
`next_billing_time`, `failed_payments_count`; `last_failed_payment` and `plan` only when asked
for with `fields`, as the specification's `fields` parameter says) and the links the status
allows. A sale is the Payments v1 object PayPal puts in PAYMENT.SALE.COMPLETED for every
subscription payment: `billing_agreement_id` is the subscription id. Pure; no state changes.
"""

from __future__ import annotations

import copy
from datetime import datetime
from urllib.parse import urlencode

from . import accounts, identifiers, money
from .billing_calendar import next_due
from .billing_records import JSON, SubscriptionRecord
from .errors import link

_BILLED = ("ACTIVE", "SUSPENDED", "CANCELLED", "EXPIRED")


def subscription_url(base_url: str, sid: str) -> str:
    return f"{base_url}/v1/billing/subscriptions/{sid}"


def approve_url(base_url: str, token: str) -> str:
    return f"{base_url}/webapps/billing/subscriptions?{urlencode({'ba_token': token})}"


def sale_url(base_url: str, sale_id: str) -> str:
    return f"{base_url}/v1/payments/sale/{sale_id}"


def render_subscription(
    record: SubscriptionRecord, plan: JSON, base_url: str, fields: str = ""
) -> JSON:
    out = copy.deepcopy(record.subscription)
    status = out["status"]
    wanted = {f.strip() for f in fields.split(",")}
    if status in _BILLED:
        info: JSON = {
            "outstanding_balance": money.amount(record.outstanding_minor, record.currency),
            "cycle_executions": _executions(record, plan),
            "failed_payments_count": record.failed_count,
        }
        if record.last_payment is not None:
            info["last_payment"] = copy.deepcopy(record.last_payment)
        due = next_due(record, plan) if status == "ACTIVE" else None
        if due is not None:
            info["next_billing_time"] = identifiers.rfc3339(due)
        if record.last_failed is not None and "last_failed_payment" in wanted:
            info["last_failed_payment"] = copy.deepcopy(record.last_failed)
        out["billing_info"] = info
    if "plan" in wanted:
        out["plan"] = {k: copy.deepcopy(v) for k, v in plan.items() if k != "links"}
    out["links"] = _links(record, base_url)
    return out


def _executions(record: SubscriptionRecord, plan: JSON) -> list[JSON]:
    executions: list[JSON] = []
    for cycle in plan["billing_cycles"][:3]:  # the specification allows at most three
        done = record.cycles_done.get(int(cycle["sequence"]), 0)
        total = int(cycle["total_cycles"])
        entry: JSON = {
            "tenure_type": cycle["tenure_type"],
            "sequence": cycle["sequence"],
            "cycles_completed": done,
            "total_cycles": total,
        }
        if total:
            entry["cycles_remaining"] = max(0, total - done)
        if "pricing_scheme" in cycle:
            entry["current_pricing_scheme_version"] = 1
        executions.append(entry)
    return executions


def _links(record: SubscriptionRecord, base_url: str) -> list[JSON]:
    sid = record.subscription["id"]
    url = subscription_url(base_url, sid)
    status = record.subscription["status"]
    links = []
    if status == "APPROVAL_PENDING":
        links.append(link(approve_url(base_url, record.approval_token), "approve"))
    links += [link(url, "edit", "PATCH"), link(url, "self")]
    if status in ("ACTIVE", "SUSPENDED"):
        links.append(link(f"{url}/cancel", "cancel", "POST"))
        links.append(link(f"{url}/capture", "capture", "POST"))
    if status == "ACTIVE":
        links.append(link(f"{url}/suspend", "suspend", "POST"))
    if status == "SUSPENDED":
        links.append(link(f"{url}/activate", "activate", "POST"))
    return links


def minimal_subscription(record: SubscriptionRecord, base_url: str) -> JSON:
    sub = record.subscription
    return {
        "id": sub["id"],
        "status": sub["status"],
        "create_time": sub["create_time"],
        "links": _links(record, base_url),
    }


def new_sale(record: SubscriptionRecord, minor: int, moment: datetime) -> JSON:
    """A completed v1 sale of `minor` for the subscription, at the subscription's `moment`."""
    currency = record.currency
    value = money.format_minor(minor, currency)
    fee = money.format_minor(money.checkout_fee(minor, currency), currency)
    when = identifiers.rfc3339(moment)
    sale: JSON = {
        "id": identifiers.resource_id(),
        "state": "completed",
        "amount": {"total": value, "currency": currency, "details": {"subtotal": value}},
        "payment_mode": "INSTANT_TRANSFER",
        "protection_eligibility": "ELIGIBLE",
        "protection_eligibility_type": "ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE",
        "transaction_fee": {"value": fee, "currency": currency},
        "billing_agreement_id": record.subscription["id"],
        "create_time": when,
        "update_time": when,
    }
    if "custom_id" in record.subscription:
        sale["custom"] = record.subscription["custom_id"]
    return sale


def render_sale(sale: JSON, base_url: str) -> JSON:
    url = sale_url(base_url, sale["id"])
    links = [link(url, "self"), link(f"{url}/refund", "refund", "POST")]
    return {**copy.deepcopy(sale), "links": links}


def transaction(
    record: SubscriptionRecord, tx_id: str, minor: int, moment: datetime, status: str
) -> JSON:
    """An entry of `GET /v1/billing/subscriptions/{id}/transactions`."""
    currency = record.currency
    fee = money.checkout_fee(minor, currency) if status == "COMPLETED" else 0
    breakdown: JSON = {"gross_amount": money.amount(minor, currency)}
    if status == "COMPLETED":
        breakdown["fee_amount"] = money.amount(fee, currency)
        breakdown["net_amount"] = money.amount(minor - fee, currency)
    return {
        "status": status,
        "id": tx_id,
        "amount_with_breakdown": breakdown,
        "payer_name": {"given_name": accounts.BUYER_GIVEN_NAME, "surname": accounts.BUYER_SURNAME},
        "payer_email": accounts.BUYER_EMAIL,
        "time": identifiers.rfc3339(moment),
    }
