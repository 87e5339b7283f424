"""Webhook delivery: PayPal's transmission headers, background POSTs, retries with backoff.

The store tells the `Dispatcher` about each new event and the webhooks subscribed to it; the
dispatcher delivers from tasks on the server's event loop (never inside the request that caused
the event). Every attempt is a new transmission: a fresh `PAYPAL-TRANSMISSION-ID` and
`-TIME`, a signature over them, the webhook id and the CRC of the exact body sent, and the
sandbox's own certificate URL. Non-2xx answers and connection errors are retried on the
`RetryPolicy` schedule (PayPal retries up to 25 times over 3 days; tests use a fast policy),
and every attempt is recorded for `/_sandbox/deliveries`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from . import identifiers
from .signing import AUTH_ALGO, Signer
from .store import Store


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt k (from 1) that fails is followed by a wait of base * factor**(k-1), capped."""

    base_delay_s: float = 1.0
    factor: float = 2.0
    max_attempts: int = 25
    max_delay_s: float = 3600.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.factor < 1:
            raise ValueError("RetryPolicy needs max_attempts >= 1, base_delay_s >= 0, factor >= 1")

    def delay_after(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * self.factor ** (attempt - 1)))


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Dispatcher:
    """Delivers events from background tasks; start() and stop() follow the app's lifespan."""

    def __init__(self, store: Store, signer: Signer, policy: RetryPolicy) -> None:
        self.store = store
        self.signer = signer
        self.policy = policy
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: list[tuple[str, str, str]] = []
        self._attempts: list[DeliveryAttempt] = []
        store.set_listener(self.notify)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.policy.timeout_s)
        with self._lock:
            self._loop = asyncio.get_running_loop()
            waiting, self._waiting = self._waiting, []
        for job in waiting:
            self._spawn(*job)

    async def stop(self) -> None:
        await self.cancel_all()
        with self._lock:
            self._loop = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def notify(self, event_id: str, webhook_ids: list[str], trigger: str = "event") -> None:
        """Schedule delivery to each webhook; safe from any thread, never blocks."""
        with self._lock:
            loop = self._loop
            if loop is None:
                self._waiting.extend((event_id, wid, trigger) for wid in webhook_ids)
                return
        for webhook_id in webhook_ids:
            loop.call_soon_threadsafe(self._spawn, event_id, webhook_id, trigger)

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

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def reset(self) -> None:
        await self.cancel_all()
        with self._lock:
            self._attempts.clear()
            self._waiting.clear()

    def attempts(self) -> list[DeliveryAttempt]:
        with self._lock:
            return list(self._attempts)

    def _spawn(self, event_id: str, webhook_id: str, trigger: str) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(event_id, webhook_id, trigger))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event_id: str, webhook_id: str, trigger: str) -> None:
        for attempt in range(1, self.policy.max_attempts + 1):
            target = self.store.delivery(event_id, webhook_id)
            client = self._client
            if target is None or client is None:
                return
            body, url, event_type, base_url = target
            transmission_id = identifiers.transmission_id()
            transmission_time = identifiers.timestamp()
            status: int | None = None
            error: str | None = None
            try:
                response = await client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "PAYPAL-TRANSMISSION-ID": transmission_id,
                        "PAYPAL-TRANSMISSION-TIME": transmission_time,
                        "PAYPAL-CERT-URL": self.signer.cert_url(base_url),
                        "PAYPAL-AUTH-ALGO": AUTH_ALGO,
                        "PAYPAL-TRANSMISSION-SIG": self.signer.sign(
                            transmission_id, transmission_time, webhook_id, body
                        ),
                        "User-Agent": "PayPal/AUHD-214.0-58152718",
                    },
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            succeeded = status is not None and 200 <= status < 300
            with self._lock:
                self._attempts.append(
                    DeliveryAttempt(
                        event_id=event_id,
                        event_type=event_type,
                        webhook_id=webhook_id,
                        url=url,
                        attempt=attempt,
                        transmission_id=transmission_id,
                        status_code=status,
                        error=error,
                        succeeded=succeeded,
                        at=time.time(),
                        trigger=trigger,
                    )
                )
            if succeeded:
                return
            if attempt < self.policy.max_attempts:
                await asyncio.sleep(self.policy.delay_after(attempt))
