"""What the sandbox remembers about each PayPal object, beside the object's own JSON.

Each record holds the object as PayPal shows it, minus its HATEOAS `links` (rendered per
request from the caller's base URL, because they depend on the object's current status), plus
the sandbox's private bookkeeping: an order's return URLs and programmed capture outcome, a
capture's amount in minor units and what has been refunded of it. Plain data; the rules that
change records live in the operation modules, and the store owns the collections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

CAPTURE_OUTCOMES = ("COMPLETED", "PENDING", "DECLINED")


@dataclass
class CaptureOutcome:
    """What the next capture of an order does (`/_sandbox/orders/{id}/capture-outcome`)."""

    status: str = "COMPLETED"
    reason: str | None = None


@dataclass
class OrderRecord:
    order: JSON
    awaiting_status: str  # CREATED, or PAYER_ACTION_REQUIRED when a payment_source was given
    return_url: str | None
    cancel_url: str | None
    outcome: CaptureOutcome = field(default_factory=CaptureOutcome)
    capture_ids: list[str] = field(default_factory=list)


@dataclass
class CaptureRecord:
    capture: JSON
    order_id: str
    currency: str
    amount_minor: int
    refunded_minor: int = 0
    refund_ids: list[str] = field(default_factory=list)


@dataclass
class RefundRecord:
    refund: JSON
    capture_id: str


@dataclass
class PayoutBatchRecord:
    header: JSON
    item_ids: list[str]
    base_url: str


@dataclass
class DisputeRecord:
    dispute: JSON
    capture_id: str


@dataclass
class Webhook:
    """A subscription: `(url, webhook_id)` from start-up, or made with the webhooks API."""

    id: str
    url: str
    event_types: list[str]
    from_startup: bool

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


@dataclass
class EventRecord:
    event: JSON
    base_url: str  # the sandbox's address as the request that caused the event saw it
