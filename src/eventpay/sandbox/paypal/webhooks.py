"""PayPal's side of webhook delivery: transmission headers, attempt records, retry defaults.

Every attempt is a new transmission: a fresh `PAYPAL-TRANSMISSION-ID` and `-TIME`, a signature
over them, the webhook id and the CRC of the exact body sent, and the sandbox's own certificate
URL. PayPal retries up to 25 times over 3 days (tests use a fast policy). Background POSTs,
retries and the attempt log are plumbing/delivery.py's; signing is signing.py's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eventpay.sandbox.plumbing import delivery
from eventpay.sandbox.plumbing.delivery import Outcome, Transmission

from . import identifiers
from .signing import AUTH_ALGO, Signer
from .store import Store


@dataclass(frozen=True)
class RetryPolicy(delivery.RetryPolicy):
    """Attempt k (from 1) that fails is followed by a wait of base * factor**(k-1), capped."""

    max_attempts: int = 25


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST to one webhook; `status_code` is None when the connection itself failed."""

    event_id: str
    event_type: str
    webhook_id: str
    url: str
    attempt: int
    transmission_id: str
    status_code: int | None
    error: str | None
    succeeded: bool
    at: float
    trigger: str

    @property
    def target_id(self) -> str:
        return self.webhook_id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Dispatcher(delivery.Dispatcher[DeliveryAttempt]):
    """Delivers events to subscribed webhooks; start() and stop() follow the app's lifespan."""

    def __init__(self, store: Store, signer: Signer, policy: RetryPolicy) -> None:
        super().__init__(policy)
        self.store = store
        self.signer = signer
        store.set_listener(self.notify)

    def resend(self, event_id: str, webhook_ids: list[str] | None = None) -> list[str]:
        """Deliver an existing event again, now; returns the webhooks it goes to."""
        with self.store.lock:
            event_type = str(self.store.event(event_id).event["event_type"])
            if webhook_ids is None:
                targets = self.store.webhooks_for(event_type)
            else:
                targets = [self.store.webhook(wid).id for wid in webhook_ids]
        self.notify(event_id, targets, trigger="resend")
        return targets

    def _transmission(self, event_id: str, target_id: str) -> Transmission | None:
        target = self.store.delivery(event_id, target_id)
        if target is None:
            return None
        body, url, event_type, base_url = target
        transmission_id = identifiers.transmission_id()
        transmission_time = identifiers.timestamp()
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-CERT-URL": self.signer.cert_url(base_url),
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-TRANSMISSION-SIG": self.signer.sign(
                transmission_id, transmission_time, target_id, body
            ),
            "User-Agent": "PayPal/AUHD-214.0-58152718",
        }
        return Transmission(url=url, body=body, headers=headers, event_type=event_type)

    def _record(
        self, event_id: str, target_id: str, sent: Transmission, outcome: Outcome
    ) -> DeliveryAttempt:
        return DeliveryAttempt(
            event_id=event_id,
            event_type=sent.event_type,
            webhook_id=target_id,
            url=sent.url,
            attempt=outcome.attempt,
            transmission_id=sent.headers["PAYPAL-TRANSMISSION-ID"],
            status_code=outcome.status_code,
            error=outcome.error,
            succeeded=outcome.succeeded,
            at=outcome.at,
            trigger=outcome.trigger,
        )
