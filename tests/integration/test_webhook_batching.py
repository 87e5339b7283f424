"""Group commit of webhook deliveries, on SQLite and PostgreSQL.

Many concurrent deliveries share one transaction (`WebhookBatcher` + `store_events`); these
tests check that batching changes nothing a provider can observe: every event is stored once,
exactly one delivery of an event is answered "stored" and the others "duplicate", nothing is
acknowledged before (or without) its commit, and a bad signature in the crowd stores nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog.testing
from sqlalchemy import create_engine, text

from eventpay.bootstrap import Container, build_container
from eventpay.db import SqlUnitOfWork, SqlUnitOfWorkFactory
from eventpay.ports import ProviderName, WebhookEventRecord, WebhookStatus
from eventpay.services import webhooks
from eventpay.web import create_app
from eventpay.web.webhook_batcher import WebhookBatcher, WebhookBatchFailed
from support.events import payment_intent_event, signed_headers
from support.stack import WEBHOOK_SECRET, make_settings

URL = "/v1/webhooks/stripe"


class CountingUowFactory:
    """The real unit-of-work factory, counting transactions; optionally failing each commit."""

    def __init__(self, inner: SqlUnitOfWorkFactory, *, fail_commit: bool = False) -> None:
        self._inner = inner
        self._fail_commit = fail_commit
        self.opened = 0

    def __call__(self) -> SqlUnitOfWork:
        self.opened += 1
        uow = self._inner()
        if self._fail_commit:

            def refuse() -> None:
                raise RuntimeError("the disk is full")

            uow.commit = refuse  # type: ignore[method-assign]
        return uow


@pytest.fixture
def built(database_url: str) -> Iterator[Container]:
    # No Stripe calls happen on ingest: the API base only has to be a valid URL.
    container = build_container(make_settings(database_url, "http://127.0.0.1:9"), pool_size=5)
    try:
        yield container
    finally:
        container.close()


def _stored_event_ids(container: Container) -> Counter[str]:
    engine = create_engine(container.settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT event_id FROM webhook_events")).scalars()
            return Counter(rows)
    finally:
        engine.dispose()


async def _post_all(
    container: Container, deliveries: Sequence[tuple[bytes, dict[str, str]]]
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=create_app(container=container), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://eventpay.test") as client:
        return await asyncio.gather(
            *(client.post(URL, content=body, headers=headers) for body, headers in deliveries)
        )


def _event(event_id: str) -> bytes:
    return payment_intent_event(
        "payment_intent.succeeded", intent_id=f"pi_{event_id}", event_id=event_id
    )


def test_concurrent_deliveries_store_each_event_once(built: Container) -> None:
    counting = CountingUowFactory(built.uow_factory)
    built.uow_factory = counting  # type: ignore[assignment]
    unique = [f"evt_batch_{i:03d}" for i in range(150)]
    twice = unique[:50]  # delivered again, interleaved: some land in the same batch
    forged = [f"evt_forged_{i}" for i in range(10)]
    deliveries = [(_event(e), signed_headers(_event(e), WEBHOOK_SECRET)) for e in unique]
    for i, event_id in enumerate(twice):
        body = _event(event_id)
        deliveries.insert(2 * i + 1, (body, signed_headers(body, WEBHOOK_SECRET)))
    for event_id in forged:
        body = _event(event_id)
        deliveries.insert(7, (body, signed_headers(body, "whsec_not_ours")))

    responses = asyncio.run(_post_all(built, deliveries))

    assert len(responses) == 210
    rejected = [r for r in responses if r.status_code == 400]
    assert len(rejected) == len(forged)
    assert {r.json()["error"]["code"] for r in rejected} == {"signature_mismatch"}
    acked = [r.json() for r in responses if r.status_code == 200]
    assert len(acked) == 200
    answered_stored = Counter(a["event_id"] for a in acked if not a["duplicate"])
    answered_duplicate = Counter(a["event_id"] for a in acked if a["duplicate"])
    assert answered_stored == Counter(unique)  # each event "stored" exactly once
    assert answered_duplicate == Counter(twice)
    assert _stored_event_ids(built) == Counter(unique)  # every acknowledged event is there
    # Batching happened: far fewer transactions than deliveries.
    assert counting.opened < len(unique) / 2


def _with_flaw(event_id: str, flaw: str) -> bytes:
    """A Stripe-shaped event that is correctly signed and still must never be stored."""
    body = _event(event_id)
    if flaw == "lone_surrogate":
        return body.replace(b'"payment_intent.succeeded"', b'"x\\ud800"')
    if flaw == "deep":
        return body[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    if flaw == "nul":
        return body.replace(b'"object": "event"', b'"object": "ev\\u0000ent"')
    assert flaw == "latin1"
    return body.replace(b'"object": "event"', '"object": "év"'.encode("latin-1"))


def test_a_bad_event_in_a_crowd_is_refused_alone(built: Container) -> None:
    flaws = {"lone_surrogate": "body_not_storable", "deep": "body_too_deep"}
    flaws |= {"nul": "body_not_storable", "latin1": "body_not_utf8"}
    good = [f"evt_crowd_{i:02d}" for i in range(40)]
    deliveries = [(_event(e), signed_headers(_event(e), WEBHOOK_SECRET)) for e in good]
    for i, flaw in enumerate(flaws):
        body = _with_flaw(f"evt_flawed_{flaw}", flaw)
        deliveries.insert(5 + 9 * i, (body, signed_headers(body, WEBHOOK_SECRET)))

    responses = asyncio.run(_post_all(built, deliveries))

    codes = [r.json()["error"]["code"] for r in responses if r.status_code == 400]
    assert codes == list(flaws.values())
    assert [r.json()["event_id"] for r in responses if r.status_code == 200] == good
    assert _stored_event_ids(built) == Counter(good)


def test_redelivery_of_stored_events_is_a_duplicate(built: Container) -> None:
    bodies = [_event(f"evt_again_{i}") for i in range(40)]
    deliveries = [(b, signed_headers(b, WEBHOOK_SECRET)) for b in bodies]
    first = asyncio.run(_post_all(built, deliveries))
    again = asyncio.run(_post_all(built, deliveries))
    assert [r.json()["duplicate"] for r in first] == [False] * 40
    assert [r.json()["duplicate"] for r in again] == [True] * 40
    assert sum(_stored_event_ids(built).values()) == 40


def test_payloads_are_stored_exactly_as_received(built: Container) -> None:
    # Stripe pretty-prints its JSON; names and descriptions carry any Unicode and escapes.
    bodies = [
        json.dumps(
            {
                "id": f"evt_exact_{i}",
                "type": "payment_intent.succeeded",
                "data": {"object": {"id": "pi_1", "description": 'Café "Bass" \\ 🎶\n\t'}},
                "note": "a backslash-u in the text: \\u00e9",
            },
            indent=2,
            ensure_ascii=i % 2 == 0,
        ).encode()
        for i in range(6)
    ]
    responses = asyncio.run(
        _post_all(built, [(b, signed_headers(b, WEBHOOK_SECRET)) for b in bodies])
    )
    assert {r.status_code for r in responses} == {200}
    with built.uow_factory() as uow:
        stored = {e.event_id: e.payload for e in uow.webhooks.list(status=None, limit=10)}
    assert stored == {f"evt_exact_{i}": body.decode() for i, body in enumerate(bodies)}


def test_a_failed_commit_acknowledges_nobody(built: Container) -> None:
    built.uow_factory = CountingUowFactory(built.uow_factory, fail_commit=True)  # type: ignore[assignment]
    bodies = [_event(f"evt_lost_{i}") for i in range(30)]
    deliveries = [(b, signed_headers(b, WEBHOOK_SECRET)) for b in bodies]
    # Captured, not rendered: the console renderer spends seconds on each traceback.
    with structlog.testing.capture_logs() as logs:
        responses = asyncio.run(_post_all(built, deliveries))
    assert {r.status_code for r in responses} == {500}
    assert {r.json()["error"]["code"] for r in responses} == {"internal_error"}
    assert [e["error_type"] for e in logs] == ["WebhookBatchFailed"] * 30
    assert _stored_event_ids(built) == Counter()


def _record(event_id: str, now: datetime) -> WebhookEventRecord:
    return WebhookEventRecord(
        id=str(uuid.uuid4()),
        provider=ProviderName.STRIPE,
        event_id=event_id,
        type="payment_intent.succeeded",
        payload='{"id": "' + event_id + '"}',
        status=WebhookStatus.PENDING,
        received_at=now,
        next_attempt_at=now,
    )


def test_store_events_settles_duplicates_inside_and_across_batches(built: Container) -> None:
    now = datetime.now(UTC)
    stored_before = webhooks.store_events(
        uow_factory=built.uow_factory, events=[_record("evt_old", now)]
    )
    batch = [
        _record("evt_new", now),
        _record("evt_old", now),
        _record("evt_new", now),
        _record("evt_other", now),
    ]
    outcomes = webhooks.store_events(uow_factory=built.uow_factory, events=batch)
    assert stored_before == [True]
    assert outcomes == [True, False, False, True]
    assert _stored_event_ids(built) == Counter(["evt_old", "evt_new", "evt_other"])
    with built.uow_factory() as uow:
        rows = {e.event_id: e for e in uow.webhooks.list(status=WebhookStatus.PENDING, limit=10)}
    assert rows["evt_new"].id == batch[0].id  # the first delivery's row won
    assert rows["evt_new"].received_at == now
    assert rows["evt_new"].payload == '{"id": "evt_new"}'


def test_batcher_batches_while_a_commit_is_in_flight() -> None:
    batches: list[list[str]] = []

    def store(events: Sequence[WebhookEventRecord]) -> list[bool]:
        batches.append([e.event_id for e in events])
        return [e.event_id.endswith("0") for e in events]

    async def run() -> list[Any]:
        batcher = WebhookBatcher(store, max_batch=30, max_concurrent=1)
        now = datetime.now(UTC)
        return await asyncio.gather(*(batcher.submit(_record(f"evt_{i}", now)) for i in range(100)))

    outcomes = asyncio.run(run())
    assert outcomes == [i % 10 == 0 for i in range(100)]  # each caller got its own outcome
    assert batches[0] == ["evt_0"]  # the first event after a quiet spell leaves at once
    assert [len(b) for b in batches[1:]] == [30, 30, 30, 9]
    assert [e for b in batches for e in b] == [f"evt_{i}" for i in range(100)]


def test_batcher_bounds_the_payload_held_by_one_batch() -> None:
    batches: list[int] = []

    def store(events: Sequence[WebhookEventRecord]) -> list[bool]:
        batches.append(len(events))
        return [True] * len(events)

    async def run() -> None:
        batcher = WebhookBatcher(store, max_batch_chars=3000, max_concurrent=1)
        now = datetime.now(UTC)
        big = [_record(f"evt_{i}", now) for i in range(9)]
        for event in big:
            event.payload = "x" * 1000
        huge = _record("evt_huge", now)
        huge.payload = "x" * 5000  # larger than the bound: still stored, alone
        await asyncio.gather(*(batcher.submit(e) for e in [*big, huge]))

    asyncio.run(run())
    assert batches == [1, 3, 3, 2, 1]


def test_batcher_fails_every_waiter_when_every_store_fails() -> None:
    calls: list[int] = []

    def store(events: Sequence[WebhookEventRecord]) -> list[bool]:
        calls.append(len(events))
        raise RuntimeError("connection lost")

    async def run() -> list[Any]:
        batcher = WebhookBatcher(store, max_concurrent=1)
        now = datetime.now(UTC)
        return await asyncio.gather(
            *(batcher.submit(_record(f"evt_{i}", now)) for i in range(101)),
            return_exceptions=True,
        )

    outcomes = asyncio.run(run())
    assert all(isinstance(o, WebhookBatchFailed) for o in outcomes)
    assert all(isinstance(o.__cause__, RuntimeError) for o in outcomes)
    # The first event went alone; the batch of 100 behind it was retried in halves, but a
    # database that refuses everything is asked a bounded number of times, not once per event.
    assert calls[:3] == [1, 100, 50]
    assert len(calls) == 1 + 1 + 4 * 7


def _poisoned(event_id: str, now: datetime) -> WebhookEventRecord:
    # What a verifier must never let through: text no database column can hold.
    record = _record(event_id, now)
    record.type = "payment_intent.succeeded\ud800"
    return record


def test_batcher_splits_a_failed_batch_so_only_the_bad_event_fails() -> None:
    calls: list[list[str]] = []

    def store(events: Sequence[WebhookEventRecord]) -> list[bool]:
        calls.append([e.event_id for e in events])
        if any(e.event_id.startswith("evt_bad") for e in events):
            raise RuntimeError("the database refused one row")
        return [True] * len(events)

    async def run() -> list[Any]:
        batcher = WebhookBatcher(store, max_concurrent=1)
        now = datetime.now(UTC)
        ids = [f"evt_{i}" for i in range(40)]
        ids[17] = "evt_bad_17"
        ids[30] = "evt_bad_30"
        return await asyncio.gather(
            *(batcher.submit(_record(i, now)) for i in ids), return_exceptions=True
        )

    outcomes = asyncio.run(run())
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, WebhookBatchFailed)]
    assert failed == [17, 30]
    assert [o for i, o in enumerate(outcomes) if i not in failed] == [True] * 38
    assert calls[1] == [f"evt_{i}" if i not in (17, 30) else f"evt_bad_{i}" for i in range(1, 40)]
    # Halving, not one transaction per event: far fewer store calls than events.
    assert len(calls) < 39


def test_an_unstorable_event_fails_alone_in_the_database(built: Container) -> None:
    sizes: list[int] = []

    def store(events: Sequence[WebhookEventRecord]) -> list[bool]:
        sizes.append(len(events))
        return webhooks.store_events(uow_factory=built.uow_factory, events=events)

    async def run() -> list[Any]:
        batcher = WebhookBatcher(store, max_concurrent=1)
        now = datetime.now(UTC)
        records = [_record(f"evt_fine_{i:02d}", now) for i in range(20)]
        records[11] = _poisoned("evt_poisoned", now)
        return await asyncio.gather(*(batcher.submit(r) for r in records), return_exceptions=True)

    with structlog.testing.capture_logs():
        outcomes = asyncio.run(run())
    assert sizes[:2] == [1, 19]  # the poisoned event shared a group commit with 18 others
    assert isinstance(outcomes[11], WebhookBatchFailed)
    assert [o for i, o in enumerate(outcomes) if i != 11] == [True] * 19
    assert _stored_event_ids(built) == Counter(f"evt_fine_{i:02d}" for i in range(20) if i != 11)


def test_overlapping_batches_in_opposite_order_do_not_deadlock(built: Container) -> None:
    """Two server processes whose batches share events in opposite order both commit."""
    import threading

    now = datetime.now(UTC)
    shared = [_record("evt_shared_first", now), _record("evt_shared_last", now)]
    filler_a = [_record(f"evt_fill_a_{i}", now) for i in range(1500)]
    filler_b = [_record(f"evt_fill_b_{i}", now) for i in range(1500)]
    batch_a = [shared[0], *filler_a, shared[1]]
    batch_b = [
        _record("evt_shared_last", now),
        *filler_b,
        _record("evt_shared_first", now),
    ]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def store(name: str, batch: list[WebhookEventRecord]) -> None:
        barrier.wait()
        try:
            outcomes[name] = webhooks.store_events(uow_factory=built.uow_factory, events=batch)
        except Exception as exc:
            outcomes[name] = exc

    threads = [
        threading.Thread(target=store, args=("a", batch_a)),
        threading.Thread(target=store, args=("b", batch_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(result, list) for result in outcomes.values()), outcomes
    stored = _stored_event_ids(built)
    assert stored["evt_shared_first"] == 1
    assert stored["evt_shared_last"] == 1
    assert len(stored) == 3002
