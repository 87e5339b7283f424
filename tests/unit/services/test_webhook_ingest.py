"""webhooks.ingest with the real Stripe verifier: one row per event id, nothing when rejected."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from eventpay.ports import ProviderName, WebhookEventRecord, WebhookRejected, WebhookStatus
from eventpay.providers.stripe_webhook import SIGNATURE_HEADER, StripeWebhookVerifier, sign
from eventpay.services import webhooks

from .fakes import signed, stripe_event
from .scenario import WEBHOOK_SECRET, World

INTENT = {"id": "pi_ingest", "amount": 4000, "currency": "usd", "metadata": {}}


def ingest(world: World, body: bytes, headers: dict[str, str]) -> webhooks.IngestResult:
    return webhooks.ingest(
        uow_factory=world.uow_factory,
        verifier=world.verifier,
        body=body,
        headers=headers,
        now=world.clock(),
    )


def test_a_verified_event_is_stored_pending_and_due_now(world: World) -> None:
    event = stripe_event("payment_intent.succeeded", INTENT, event_id="evt_one")

    result = world.deliver(event)

    assert result == webhooks.IngestResult(event_id="evt_one", stored=True)
    (row,) = world.store.webhook_events
    assert row.provider is ProviderName.STRIPE
    assert row.event_id == "evt_one"
    assert row.type == "payment_intent.succeeded"
    assert json.loads(row.payload) == event
    assert row.status is WebhookStatus.PENDING
    assert row.received_at == row.next_attempt_at == world.clock()
    assert row.attempts == 0
    assert row.processed_at is None


def test_a_redelivered_event_is_a_no_op(world: World) -> None:
    event = stripe_event("payment_intent.succeeded", INTENT, event_id="evt_twice")
    world.deliver(event)
    first = world.event_row("evt_twice")
    world.clock.advance(seconds=30)

    again = world.deliver(event)

    assert again == webhooks.IngestResult(event_id="evt_twice", stored=False)
    assert world.store.webhook_events == [first]


def test_distinct_events_get_a_row_each(world: World) -> None:
    for event_id in ("evt_a", "evt_b", "evt_c"):
        world.deliver(stripe_event("payment_intent.processing", INTENT, event_id=event_id))

    assert [e.event_id for e in world.store.webhook_events] == ["evt_a", "evt_b", "evt_c"]
    assert len({e.id for e in world.store.webhook_events}) == 3


def test_a_rotated_secret_is_accepted_by_either_secret(world: World) -> None:
    world.verifier = StripeWebhookVerifier(["whsec_new_secret", WEBHOOK_SECRET])
    body, headers = signed(
        stripe_event("payment_intent.succeeded", INTENT, event_id="evt_old_secret"),
        secret=WEBHOOK_SECRET,
        at=world.clock(),
    )

    assert ingest(world, body, headers).stored is True


VALID = json.dumps(stripe_event("payment_intent.succeeded", INTENT, event_id="evt_x")).encode()
Headers = Callable[[bytes, datetime], dict[str, str]]


def signed_by(secret: str = WEBHOOK_SECRET, *, skew_s: int = 0) -> Headers:
    def headers(body: bytes, now: datetime) -> dict[str, str]:
        return {SIGNATURE_HEADER: sign(body, secret, int(now.timestamp()) + skew_s)}

    return headers


def fixed(headers: dict[str, str]) -> Headers:
    return lambda body, now: headers


def signed_for(other_body: bytes) -> Headers:
    return lambda body, now: signed_by()(other_body, now)


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        pytest.param(VALID, fixed({}), "missing_signature", id="no-header"),
        pytest.param(VALID, fixed({SIGNATURE_HEADER: ""}), "missing_signature", id="empty"),
        pytest.param(VALID, signed_by("whsec_wrong"), "signature_mismatch", id="wrong-secret"),
        pytest.param(VALID + b" ", signed_for(VALID), "signature_mismatch", id="body-changed"),
        pytest.param(VALID, signed_by(skew_s=-301), "stale_timestamp", id="too-old"),
        pytest.param(VALID, signed_by(skew_s=301), "stale_timestamp", id="from-the-future"),
        pytest.param(b"{not json", signed_by(), "malformed_body", id="not-json"),
        pytest.param(b"[1, 2]", signed_by(), "malformed_body", id="not-an-object"),
        pytest.param(
            json.dumps({"type": "x", "data": {"object": {}}}).encode(),
            signed_by(),
            "malformed_body",
            id="no-event-id",
        ),
        pytest.param(
            json.dumps({"id": "evt_1", "type": "x", "data": {}}).encode(),
            signed_by(),
            "malformed_body",
            id="no-data-object",
        ),
    ],
)
def test_rejected_deliveries_store_nothing(
    world: World, body: bytes, headers: Headers, code: str
) -> None:
    commits = world.store.commits

    with pytest.raises(WebhookRejected) as raised:
        ingest(world, body, headers(body, world.clock()))

    assert raised.value.code == code
    assert world.store.webhook_events == []
    assert world.store.commits == commits


def test_the_tolerance_edge_is_still_accepted(world: World) -> None:
    body, headers = signed(VALID, secret=WEBHOOK_SECRET, at=world.clock() - timedelta(seconds=300))

    assert ingest(world, body, headers).stored is True


# ---------------------------------------------------------------------------- group commit


def verified(world: World, event_id: str) -> WebhookEventRecord:
    body, headers = signed(
        stripe_event("payment_intent.succeeded", INTENT, event_id=event_id),
        secret=WEBHOOK_SECRET,
        at=world.clock(),
    )
    return webhooks.verify_event(
        verifier=world.verifier, body=body, headers=headers, now=world.clock()
    )


def store(world: World, events: list[WebhookEventRecord]) -> list[bool]:
    return webhooks.store_events(uow_factory=world.uow_factory, events=events)


def test_verify_event_builds_the_row_and_stores_nothing(world: World) -> None:
    commits = world.store.commits

    row = verified(world, "evt_verified")

    assert (row.event_id, row.status, row.attempts) == ("evt_verified", WebhookStatus.PENDING, 0)
    assert row.received_at == row.next_attempt_at == world.clock()
    assert world.store.webhook_events == []
    assert world.store.commits == commits


def test_verify_event_rejects_like_ingest(world: World) -> None:
    with pytest.raises(WebhookRejected) as raised:
        webhooks.verify_event(verifier=world.verifier, body=VALID, headers={}, now=world.clock())

    assert raised.value.code == "missing_signature"


def test_a_batch_is_stored_in_one_commit(world: World) -> None:
    events = [verified(world, f"evt_batch_{i}") for i in range(3)]
    commits = world.store.commits

    outcomes = store(world, events)

    assert outcomes == [True, True, True]
    assert world.store.commits == commits + 1
    assert {e.event_id for e in world.store.webhook_events} == {
        "evt_batch_0",
        "evt_batch_1",
        "evt_batch_2",
    }


def test_one_event_delivered_twice_in_a_batch_is_stored_once(world: World) -> None:
    first, second = verified(world, "evt_racing"), verified(world, "evt_racing")
    other = verified(world, "evt_other")
    assert first.id != second.id

    outcomes = store(world, [first, other, second])

    assert outcomes == [True, True, False]
    assert world.event_row("evt_racing").id == first.id
    assert len(world.store.webhook_events) == 2


def test_events_stored_earlier_are_duplicates_in_a_batch(world: World) -> None:
    world.deliver(stripe_event("payment_intent.succeeded", INTENT, event_id="evt_earlier"))
    stored_row = world.event_row("evt_earlier")

    outcomes = store(world, [verified(world, "evt_new"), verified(world, "evt_earlier")])

    assert outcomes == [True, False]
    assert world.event_row("evt_earlier") == stored_row


def test_a_failed_batch_stores_none_of_its_events(world: World) -> None:
    events = [verified(world, "evt_lost_1"), verified(world, "evt_lost_2")]
    world.store.fail_on("webhooks.insert_many_if_new", OSError("connection reset"))

    with pytest.raises(OSError, match="connection reset"):
        store(world, events)

    assert world.store.webhook_events == []


def test_an_empty_batch_is_fine(world: World) -> None:
    assert store(world, []) == []
    assert world.store.webhook_events == []
