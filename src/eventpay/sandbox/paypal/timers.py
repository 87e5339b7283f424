"""Work the sandbox does later by itself, such as payout batches settling a moment after creation.

`Timers.call_later(delay, callback)` is safe from any thread; callbacks run on the server's event
loop once the app has started (earlier requests are queued until then) and are cancelled by
`stop` and `cancel_all` (a sandbox reset). A callback that raises is logged, never propagated.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Timers:
    """Delayed callbacks on the server's loop; start() and stop() follow the app's lifespan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handles: set[asyncio.TimerHandle] = set()
        self._queued: list[tuple[float, Callable[[], object]]] = []

    async def start(self) -> None:
        with self._lock:
            self._loop = asyncio.get_running_loop()
            queued, self._queued = self._queued, []
        for delay, callback in queued:
            self.call_later(delay, callback)

    async def stop(self) -> None:
        self.cancel_all()
        with self._lock:
            self._loop = None

    def call_later(self, delay_s: float, callback: Callable[[], object]) -> None:
        with self._lock:
            loop = self._loop
            if loop is None:
                self._queued.append((delay_s, callback))
                return
        loop.call_soon_threadsafe(self._schedule, loop, delay_s, callback)

    def cancel_all(self) -> None:
        with self._lock:
            handles, self._handles = self._handles, set()
            self._queued.clear()
        for handle in handles:
            handle.cancel()

    def _schedule(
        self, loop: asyncio.AbstractEventLoop, delay_s: float, callback: Callable[[], object]
    ) -> None:
        def run() -> None:
            with self._lock:
                self._handles.discard(handle)
            try:
                callback()
            except Exception:
                log.exception("PayPal sandbox timer failed")

        handle = loop.call_later(delay_s, run)
        with self._lock:
            self._handles.add(handle)
