"""Group commit for webhook deliveries: one transaction stores the events of many requests.

With fsync on, a commit costs a WAL flush, and one transaction per request caps ingest at
what the disk flushes per second. The batcher lets each server process queue verified events
and store them with `services.webhooks.store_events` (one multi-row insert, one commit), then
wakes every waiting request with its own outcome. Batches form by themselves: the first event
after a quiet spell leaves at once, and while a batch is being written the next one gathers,
up to `max_batch` events (or `max_batch_chars` of payload) with at most `max_concurrent`
transactions in flight per process. Under light
load that adds no delay; under heavy load one commit serves many requests.

Guarantees are those of one request per transaction: a request is answered only after the
commit that holds its event, and a failed batch fails every request in it (500, nothing
acknowledged, so the provider redelivers; a redelivery of an event that did commit is a
duplicate). Nothing here decides what is stored or what a duplicate is; the service does.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from fastapi.concurrency import run_in_threadpool

from eventpay.ports import WebhookEventRecord

StoreEvents = Callable[[Sequence[WebhookEventRecord]], list[bool]]


class WebhookBatchFailed(RuntimeError):
    """Storing the batch that held this delivery failed; `__cause__` says why.

    Each waiting request gets its own instance: re-raising one shared exception in every
    request would stack all their tracebacks onto it.
    """


class WebhookBatcher:
    """Batches `submit` calls made on one event loop into calls of `store` in a thread."""

    def __init__(
        self,
        store: StoreEvents,
        *,
        max_batch: int = 500,
        max_batch_chars: int = 8 * 1024 * 1024,
        max_concurrent: int = 2,
    ) -> None:
        if max_batch < 1 or max_batch_chars < 1 or max_concurrent < 1:
            raise ValueError("batch limits and max_concurrent must be at least 1")
        self._store = store
        self._max_batch = max_batch
        # Bodies may be up to 1 MiB each: bound what one batch holds in memory (twice, once
        # more as the statement's parameter), whatever the count.
        self._max_batch_chars = max_batch_chars
        self._max_concurrent = max_concurrent
        self._queue: list[tuple[WebhookEventRecord, asyncio.Future[bool]]] = []
        self._in_flight = 0
        # The loop keeps only weak references to tasks; these keep flushes alive until done.
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, event: WebhookEventRecord) -> bool:
        """Store `event` with others; True once committed as new, False if a duplicate."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((event, future))
        self._start_flushes()
        return await future

    def _start_flushes(self) -> None:
        while self._queue and self._in_flight < self._max_concurrent:
            size, chars = 0, 0
            for event, _ in self._queue[: self._max_batch]:
                if size and chars + len(event.payload) > self._max_batch_chars:
                    break
                size, chars = size + 1, chars + len(event.payload)
            batch = self._queue[:size]
            del self._queue[:size]
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, batch: list[tuple[WebhookEventRecord, asyncio.Future[bool]]]) -> None:
        try:
            outcomes = await run_in_threadpool(self._store, [event for event, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for a batch of {len(batch)}")
        except asyncio.CancelledError:
            # Only a closing event loop cancels a flush. The thread may still commit, but no
            # request can be answered any more: none is acknowledged, and the provider
            # redelivers (as a duplicate if it did commit).
            self._in_flight -= 1
            for _, future in batch + self._queue:
                future.cancel()
            self._queue.clear()
            raise
        except Exception as exc:
            self._settle(batch, exc)
        else:
            self._settle(batch, outcomes)
        self._in_flight -= 1
        self._start_flushes()

    @staticmethod
    def _settle(
        batch: list[tuple[WebhookEventRecord, asyncio.Future[bool]]],
        outcomes: list[bool] | Exception,
    ) -> None:
        for index, (_, future) in enumerate(batch):
            # A request whose client went away was cancelled; its event is stored anyway.
            if future.done():
                continue
            if isinstance(outcomes, Exception):
                failure = WebhookBatchFailed(f"storing a batch of {len(batch)} events failed")
                failure.__cause__ = outcomes
                future.set_exception(failure)
            else:
                future.set_result(outcomes[index])


_BATCHERS_ATTR = "webhook_batchers"


def batcher_for(state: Any, make: Callable[[], WebhookBatcher]) -> WebhookBatcher:
    """The batcher of the running event loop, kept on the app's `state`; built on first use.

    One per loop, not one per app: futures belong to a loop, and a test client may run each
    request of one app on a fresh loop.
    """
    batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WebhookBatcher] | None
    batchers = getattr(state, _BATCHERS_ATTR, None)
    if batchers is None:
        batchers = weakref.WeakKeyDictionary()
        setattr(state, _BATCHERS_ATTR, batchers)
    loop = asyncio.get_running_loop()
    batcher = batchers.get(loop)
    if batcher is None:
        batcher = batchers[loop] = make()
    return batcher
