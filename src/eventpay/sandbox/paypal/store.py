"""The sandbox's in-memory state: PayPal objects, webhook subscriptions and events.

One `Store` per app, guarded by one re-entrant lock: an operation holds `store.lock` from start
to finish, so concurrent requests see each state change whole. Events are recorded here and
handed to a listener (the webhook dispatcher), which must not block: delivery happens in the
background, never inside the request that caused the event. Credentials, idempotency and faults
keep their own state elsewhere; the lock and listener plumbing is plumbing/state.py's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from eventpay.sandbox.plumbing.state import LockedStore

from . import events, identifiers
from .billing_records import SubscriptionRecord
from .errors import ResourceNotFound
from .records import (
    JSON,
    CaptureRecord,
    DisputeRecord,
    EventRecord,
    OrderRecord,
    PayoutBatchRecord,
    RefundRecord,
    Webhook,
)

T = TypeVar("T")


@dataclass
class _State:
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    captures: dict[str, CaptureRecord] = field(default_factory=dict)
    refunds: dict[str, RefundRecord] = field(default_factory=dict)
    batches: dict[str, PayoutBatchRecord] = field(default_factory=dict)
    payout_items: dict[str, JSON] = field(default_factory=dict)
    sender_batch_ids: dict[str, str] = field(default_factory=dict)
    # payout item id -> {"transaction_id", "time"} of the money coming back when RETURNED
    payout_returns: dict[str, JSON] = field(default_factory=dict)
    disputes: dict[str, DisputeRecord] = field(default_factory=dict)
    invoices: dict[str, JSON] = field(default_factory=dict)
    # PayPal payment id -> {"invoice_id", "time", "fee"} of an invoice paid with PayPal by its
    # recipient (invoices.py), for transaction search (reporting.py); recorded payments: never.
    invoice_payments: dict[str, JSON] = field(default_factory=dict)
    events: dict[str, EventRecord] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    invoice_numbers: int = 0
    # Billing (billing_*.py): catalog products, plans, subscriptions and their v1 sales.
    products: dict[str, JSON] = field(default_factory=dict)
    plans: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    sales: dict[str, JSON] = field(default_factory=dict)


class Store(LockedStore[_State]):
    """All sandbox objects; hold `lock` while several reads and writes must agree."""

    def __init__(self, startup_webhooks: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(_State)
        self._startup = [Webhook(wid, url, ["*"], True) for url, wid in startup_webhooks]
        self.reset()

    def reset(self) -> None:
        """Forget everything except the webhooks given at start-up."""
        with self.lock:
            self._start_over()
            for hook in self._startup:
                self._state.webhooks[hook.id] = copy.deepcopy(hook)

    # Lookups that answer PayPal's 404 when the id names nothing.

    def order(self, order_id: str) -> OrderRecord:
        return _found(self._state.orders.get(order_id), "order_id", order_id)

    def capture(self, capture_id: str) -> CaptureRecord:
        return _found(self._state.captures.get(capture_id), "capture_id", capture_id)

    def refund(self, refund_id: str) -> RefundRecord:
        return _found(self._state.refunds.get(refund_id), "refund_id", refund_id)

    def batch(self, batch_id: str) -> PayoutBatchRecord:
        return _found(self._state.batches.get(batch_id), "payout_batch_id", batch_id)

    def payout_item(self, item_id: str) -> JSON:
        return _found(self._state.payout_items.get(item_id), "payout_item_id", item_id)

    def dispute(self, dispute_id: str) -> DisputeRecord:
        return _found(self._state.disputes.get(dispute_id), "dispute_id", dispute_id)

    def invoice(self, invoice_id: str) -> JSON:
        return _found(self._state.invoices.get(invoice_id), "invoice_id", invoice_id)

    def event(self, event_id: str) -> EventRecord:
        return _found(self._state.events.get(event_id), "event_id", event_id)

    def webhook(self, webhook_id: str) -> Webhook:
        return _found(self._state.webhooks.get(webhook_id), "webhook_id", webhook_id)

    def next_invoice_number(self) -> str:
        """PayPal's generated invoice numbers count up from 0001 per merchant."""
        with self.lock:
            self._state.invoice_numbers += 1
            return f"{self._state.invoice_numbers:04d}"

    # Events

    def emit(
        self,
        event_type: str,
        resource: JSON,
        *,
        summary: str,
        base_url: str,
    ) -> JSON:
        """Record an event carrying a snapshot of `resource` now; tell the listener who wants it."""
        with self.lock:
            evt = events.build(
                event_id=identifiers.event_id(),
                event_type=event_type,
                summary=summary,
                resource=copy.deepcopy(resource),
                base_url=base_url,
            )
            self._state.events[evt["id"]] = EventRecord(evt, base_url)
            targets = self.webhooks_for(event_type)
        self._announce(evt["id"], targets)
        return evt

    def events_newest_first(self) -> list[JSON]:
        with self.lock:
            return [record.event for record in reversed(self._state.events.values())]

    def delivery(self, event_id: str, webhook_id: str) -> tuple[bytes, str, str, str] | None:
        """Body, URL, event type and base URL for delivering now; None once either is gone."""
        with self.lock:
            record = self._state.events.get(event_id)
            hook = self._state.webhooks.get(webhook_id)
            if record is None or hook is None:
                return None
            body = events.serialise(record.event)
            return body, hook.url, str(record.event["event_type"]), record.base_url

    # Webhook subscriptions

    def add_webhook(self, url: str, event_types: list[str]) -> Webhook:
        hook = Webhook(identifiers.resource_id(), url, event_types, from_startup=False)
        with self.lock:
            self._state.webhooks[hook.id] = hook
        return hook

    def delete_webhook(self, webhook_id: str) -> None:
        with self.lock:
            self.webhook(webhook_id)
            del self._state.webhooks[webhook_id]

    def webhooks_for(self, event_type: str) -> list[str]:
        with self.lock:
            return [wid for wid, hook in self._state.webhooks.items() if hook.wants(event_type)]


def _found(value: T | None, field_name: str, object_id: str) -> T:
    if value is None:
        raise ResourceNotFound(field_name, object_id)
    return value
