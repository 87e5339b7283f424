"""PayPal webhook events: the event envelope, its resource types, and its one serialisation.

An event is `{"id": "WH-...", "event_version": "1.0", "create_time", "resource_type",
"resource_version", "event_type", "summary", "resource": {...the object...}, "links"}` with
`self` and `resend` links to the webhooks-events API. `serialise` is the single way an event
becomes bytes: deliveries send and sign exactly these bytes, and the verify-webhook-signature
route re-serialises the event it is given the same way (PayPal's postback does the same, which
is why it fails when a receiver alters the event before posting it back). Pure; no state.
"""

from __future__ import annotations

import json
from typing import Any

from . import identifiers
from .errors import link

JSON = dict[str, Any]

# event type → (resource_type, resource_version), as PayPal labels them.
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "CHECKOUT.ORDER.APPROVED": ("checkout-order", "2.0"),
    "PAYMENT.CAPTURE.COMPLETED": ("capture", "2.0"),
    "PAYMENT.CAPTURE.PENDING": ("capture", "2.0"),
    "PAYMENT.CAPTURE.DECLINED": ("capture", "2.0"),
    "PAYMENT.CAPTURE.DENIED": ("capture", "2.0"),
    "PAYMENT.CAPTURE.REFUNDED": ("refund", "2.0"),
    "PAYMENT.PAYOUTSBATCH.SUCCESS": ("payouts", "1.0"),
    "PAYMENT.PAYOUTSBATCH.DENIED": ("payouts", "1.0"),
    "PAYMENT.PAYOUTS-ITEM.SUCCEEDED": ("payouts_item", "1.0"),
    "PAYMENT.PAYOUTS-ITEM.UNCLAIMED": ("payouts_item", "1.0"),
    "PAYMENT.PAYOUTS-ITEM.RETURNED": ("payouts_item", "1.0"),
    "PAYMENT.PAYOUTS-ITEM.FAILED": ("payouts_item", "1.0"),
    "PAYMENT.PAYOUTS-ITEM.BLOCKED": ("payouts_item", "1.0"),
    "CUSTOMER.DISPUTE.CREATED": ("dispute", "1.1"),
    "CUSTOMER.DISPUTE.UPDATED": ("dispute", "1.1"),
    "CUSTOMER.DISPUTE.RESOLVED": ("dispute", "1.1"),
    "INVOICING.INVOICE.PAID": ("invoices", "2.0"),
    "INVOICING.INVOICE.CANCELLED": ("invoices", "2.0"),
    "CATALOG.PRODUCT.CREATED": ("product", "1.0"),
    "BILLING.PLAN.CREATED": ("plan", "2.0"),
    "BILLING.PLAN.ACTIVATED": ("plan", "2.0"),
    "BILLING.PLAN.DEACTIVATED": ("plan", "2.0"),
    "BILLING.SUBSCRIPTION.CREATED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.ACTIVATED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.UPDATED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.EXPIRED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.CANCELLED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.SUSPENDED": ("subscription", "2.0"),
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": ("subscription", "2.0"),
    "PAYMENT.SALE.COMPLETED": ("sale", "1.0"),
}
EVENT_TYPES = tuple(RESOURCE_TYPES)


def event_url(base_url: str, event_id: str) -> str:
    return f"{base_url}/v1/notifications/webhooks-events/{event_id}"


def build(*, event_id: str, event_type: str, summary: str, resource: JSON, base_url: str) -> JSON:
    """A new event around `resource` (already a snapshot: the caller copies it)."""
    resource_type, resource_version = RESOURCE_TYPES[event_type]
    url = event_url(base_url, event_id)
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": identifiers.timestamp(),
        "resource_type": resource_type,
        "resource_version": resource_version,
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
        "links": [link(url, "self"), link(f"{url}/resend", "resend", "POST")],
    }


def serialise(event: JSON) -> bytes:
    """The exact bytes delivered, signed and (for the postback check) re-derived."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
