"""Stripe's side of webhook delivery: Stripe-Signature signing, attempt records, retry defaults.

Each attempt is signed like Stripe (`t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`) with the
endpoint's `whsec_` secret; a 2xx answer lowers the event's `pending_webhooks`. Background
POSTs, retries and the attempt log are plumbing/delivery.py's. Signing is implemented here on
purpose, independent of the service's own verification code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import asdict, dataclass
from typing import Any

from eventpay.sandbox.plumbing import delivery
from eventpay.sandbox.plumbing.delivery import Outcome, Transmission

from .store import Store


@dataclass(frozen=True)
class RetryPolicy(delivery.RetryPolicy):
    """Attempt k (from 1) that fails is followed by a wait of base * factor**(k-1), capped."""

    max_attempts: int = 10


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` value for `payload` signed with an endpoint's `whsec_` secret."""
    signed = str(timestamp).encode("ascii") + b"." + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST to one endpoint; `status_code` is None when the connection itself failed."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    succeeded: bool
    at: float
    trigger: str

    @property
    def target_id(self) -> str:
        return self.endpoint_id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Dispatcher(delivery.Dispatcher[DeliveryAttempt]):
    """Delivers events to webhook endpoints; start() and stop() follow the app's lifespan."""

    def __init__(self, store: Store, policy: RetryPolicy) -> None:
        super().__init__(policy)
        self.store = store
        store.set_listener(self.notify)

    def resend(self, event_id: str, endpoint_id: str | None = None) -> list[str]:
        """Deliver an existing event again, now; returns the endpoints it goes to."""
        with self.store.lock:
            event_type = str(self.store.event(event_id)["type"])
            targets = self.store.endpoints_for(event_type)
            if endpoint_id is not None:
                self.store.endpoint(endpoint_id)
                targets = [endpoint_id]
        self.notify(event_id, targets, trigger="resend")
        return targets

    def _transmission(self, event_id: str, target_id: str) -> Transmission | None:
        target = self.store.delivery(event_id, target_id)
        if target is None:
            return None
        body, url, secret, event_type = target
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(body, secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return Transmission(url=url, body=body, headers=headers, event_type=event_type)

    def _record(
        self, event_id: str, target_id: str, sent: Transmission, outcome: Outcome
    ) -> DeliveryAttempt:
        return DeliveryAttempt(
            event_id=event_id,
            event_type=sent.event_type,
            endpoint_id=target_id,
            url=sent.url,
            attempt=outcome.attempt,
            status_code=outcome.status_code,
            error=outcome.error,
            succeeded=outcome.succeeded,
            at=outcome.at,
            trigger=outcome.trigger,
        )

    def _delivered(self, event_id: str, target_id: str) -> None:
        self.store.mark_delivered(event_id, target_id)
