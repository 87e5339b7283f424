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
commit that holds its event. One event the database refuses must not sink its batch-mates, so
a failed batch is split in halves and each half stored on its own, down to single events: only
the events that still fail are refused (500, nothing acknowledged, so the provider redelivers;
a redelivery of an event that did commit is a duplicate). Halving finds one bad event among n
in about 2·log2(n) more transactions, where storing each alone would take n; when the database
itself is down every half fails too, so the retries are capped (`_retry_budget`) and what is
left fails with the error of the group it was in. Nothing here decides what is stored or what a
duplicate is; the service does.
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
    """Storing this delivery's event failed, alone or with its batch; `__cause__` says why.

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
            outcomes = await run_in_threadpool(self._store_apart, [event for event, _ in batch])
        except asyncio.CancelledError:
            # Only a closing event loop cancels a flush. The thread may still commit, but no
            # request can be answered any more: none is acknowledged, and the provider
            # redelivers (as a duplicate if it did commit).
            self._in_flight -= 1
            for _, future in batch + self._queue:
                future.cancel()
            self._queue.clear()
            raise
        self._settle(batch, outcomes)
        self._in_flight -= 1
        self._start_flushes()

    def _store_checked(self, events: Sequence[WebhookEventRecord]) -> list[bool]:
        outcomes = self._store(events)
        if len(outcomes) != len(events):
            raise RuntimeError(f"{len(outcomes)} outcomes for a batch of {len(events)}")
        return outcomes

    def _store_apart(self, events: list[WebhookEventRecord]) -> list[bool | Exception]:
        """Each event's outcome, or the error that kept it from being stored (in a thread)."""
        outcomes: list[bool | Exception] = [False] * len(events)
        retries = _retry_budget(len(events))
        # Groups still to store, as [start, end) of `events`, with the error of the larger
        # group they came from (what they fail with once the retries are spent).
        todo: list[tuple[int, int, Exception | None]] = [(0, len(events), None)]
        while todo:
            start, end, parent_error = todo.pop()
            if parent_error is not None:
                if retries == 0:
                    outcomes[start:end] = [parent_error] * (end - start)
                    continue
                retries -= 1
            try:
                outcomes[start:end] = self._store_checked(events[start:end])
            except Exception as exc:
                if end - start == 1:
                    outcomes[start] = exc
                    continue
                middle = (start + end) // 2
                # Right half pushed first: the left is stored first, keeping arrival order.
                todo += [(middle, end, exc), (start, middle, exc)]
        return outcomes

    @staticmethod
    def _settle(
        batch: list[tuple[WebhookEventRecord, asyncio.Future[bool]]],
        outcomes: list[bool | Exception],
    ) -> None:
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            # A request whose client went away was cancelled; its event is stored anyway.
            if future.done():
                continue
            if isinstance(outcome, Exception):
                failure = WebhookBatchFailed(
                    f"storing this event (in a batch of {len(batch)}) failed"
                )
                failure.__cause__ = outcome
                future.set_exception(failure)
            else:
                future.set_result(outcome)


def _retry_budget(size: int) -> int:
    """Store attempts allowed after a batch of `size` failed: enough to isolate two bad events
    by halving (two attempts per level), few enough that a database that is down is asked
    only a handful of times more, not once per event."""
    return 4 * (size - 1).bit_length()


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
