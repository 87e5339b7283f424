"""Webhook delivery plumbing: the retry schedule and the background loop that POSTs and retries.

The store tells a `Dispatcher` about each new event and the targets that want it; the dispatcher
delivers from tasks on the server's event loop (never inside the request that caused the event),
retries non-2xx answers and connection errors on the `RetryPolicy` schedule and records every
attempt for `/_sandbox/deliveries`. A sandbox subclasses it to say what one attempt sends
(`_transmission`: URL, exact body and signed headers, made afresh for each attempt), how an
attempt is recorded (`_record`), what a success changes (`_delivered`) and how `resend` finds
its targets. Signing, event shapes and attempt shapes are the provider's and must not live here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt k (from 1) that fails is followed by a wait of base * factor**(k-1), capped.

    Each sandbox subclasses this with its provider's `max_attempts` default.
    """

    base_delay_s: float = 1.0
    factor: float = 2.0
    max_attempts: int = 10
    max_delay_s: float = 3600.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.factor < 1:
            raise ValueError("RetryPolicy needs max_attempts >= 1, base_delay_s >= 0, factor >= 1")

    def delay_after(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * self.factor ** (attempt - 1)))


class DeliveryRecord(Protocol):
    """What `/_sandbox/deliveries` needs of a provider's record of one attempt."""

    @property
    def event_id(self) -> str: ...

    @property
    def target_id(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Transmission:
    """One attempt's POST, as the provider would send it."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    event_type: str


@dataclass(frozen=True)
class Outcome:
    """How one attempt went; `status_code` is None when the connection itself failed."""

    attempt: int
    status_code: int | None
    error: str | None
    succeeded: bool
    at: float
    trigger: str


RecordT = TypeVar("RecordT", bound=DeliveryRecord)


class Dispatcher(ABC, Generic[RecordT]):
    """Delivers events from background tasks; start() and stop() follow the app's lifespan."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: list[tuple[str, str, str]] = []
        self._attempts: list[RecordT] = []

    @abstractmethod
    def _transmission(self, event_id: str, target_id: str) -> Transmission | None:
        """What to POST for this attempt now; None once the event or the target is gone."""

    @abstractmethod
    def _record(
        self, event_id: str, target_id: str, sent: Transmission, outcome: Outcome
    ) -> RecordT:
        """The provider's record of one attempt, as `/_sandbox/deliveries` shows it."""

    def _delivered(self, event_id: str, target_id: str) -> None:
        """What a 2xx answer changes in the store; nothing unless the provider says so."""

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

    def notify(self, event_id: str, target_ids: list[str], trigger: str = "event") -> None:
        """Schedule delivery to each target; safe from any thread, never blocks."""
        with self._lock:
            loop = self._loop
            if loop is None:
                self._waiting.extend((event_id, target, trigger) for target in target_ids)
                return
        for target_id in target_ids:
            loop.call_soon_threadsafe(self._spawn, event_id, target_id, trigger)

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

    def attempts(self) -> list[RecordT]:
        with self._lock:
            return list(self._attempts)

    def _spawn(self, event_id: str, target_id: str, trigger: str) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(event_id, target_id, trigger))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event_id: str, target_id: str, trigger: str) -> None:
        for attempt in range(1, self.policy.max_attempts + 1):
            client = self._client
            sent = self._transmission(event_id, target_id) if client is not None else None
            if client is None or sent is None:
                return
            status: int | None = None
            error: str | None = None
            try:
                response = await client.post(
                    sent.url, content=sent.body, headers=dict(sent.headers)
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            succeeded = status is not None and 200 <= status < 300
            outcome = Outcome(attempt, status, error, succeeded, time.time(), trigger)
            record = self._record(event_id, target_id, sent, outcome)
            with self._lock:
                self._attempts.append(record)
            if succeeded:
                self._delivered(event_id, target_id)
                return
            if attempt < self.policy.max_attempts:
                await asyncio.sleep(self.policy.delay_after(attempt))
