"""`POST /v1/webhooks/stripe` on SQLite and PostgreSQL: verify, store once, reject cleanly."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.ports import WebhookStatus
from support.events import payment_intent_event, signed_headers
from support.stack import OLD_WEBHOOK_SECRET, WEBHOOK_SECRET

URL = "/v1/webhooks/stripe"


def _stored(container: Container) -> list[str]:
    with container.uow_factory() as uow:
        return [e.event_id for e in uow.webhooks.list(status=None, limit=100)]


def test_valid_event_is_stored_once_and_duplicates_are_noops(
    client: TestClient, container: Container
) -> None:
    body = payment_intent_event("payment_intent.succeeded", intent_id="pi_123", event_id="evt_once")
    first = client.post(URL, content=body, headers=signed_headers(body, WEBHOOK_SECRET))
    again = client.post(URL, content=body, headers=signed_headers(body, WEBHOOK_SECRET))
    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "event_id": "evt_once", "duplicate": False}
    assert again.json()["duplicate"] is True
    assert _stored(container) == ["evt_once"]
    with container.uow_factory() as uow:
        (event,) = uow.webhooks.list(status=WebhookStatus.PENDING, limit=5)
    assert event.payload == body.decode()


def test_rotated_secret_still_verifies(client: TestClient, container: Container) -> None:
    body = payment_intent_event("payment_intent.succeeded", intent_id="pi_1", event_id="evt_rot")
    response = client.post(URL, content=body, headers=signed_headers(body, OLD_WEBHOOK_SECRET))
    assert response.status_code == 200
    assert _stored(container) == ["evt_rot"]


def _rejected(client: TestClient, body: bytes, headers: dict[str, str]) -> str:
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 400, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_bad_signatures_are_400_and_store_nothing(client: TestClient, container: Container) -> None:
    body = payment_intent_event("payment_intent.succeeded", intent_id="pi_1")
    assert _rejected(client, body, {}) == "missing_signature"
    assert _rejected(client, body, signed_headers(body, "whsec_wrong")) == "signature_mismatch"
    stale = signed_headers(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    assert _rejected(client, body, stale) == "stale_timestamp"
    tampered = signed_headers(body, WEBHOOK_SECRET)
    assert _rejected(client, body.replace(b"4000", b"1"), tampered) == "signature_mismatch"
    assert _rejected(client, body, {"Stripe-Signature": "garbage"}) == "malformed_signature"
    assert _stored(container) == []


def test_malformed_and_oversized_bodies_are_400(client: TestClient, container: Container) -> None:
    not_json = b"this is not json"
    assert _rejected(client, not_json, signed_headers(not_json, WEBHOOK_SECRET)) == "malformed_body"
    no_id = b'{"type": "payment_intent.succeeded", "data": {"object": {}}}'
    assert _rejected(client, no_id, signed_headers(no_id, WEBHOOK_SECRET)) == "malformed_body"
    huge = b'{"id": "evt_big", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert _rejected(client, huge, signed_headers(huge, WEBHOOK_SECRET)) == "payload_too_large"
    assert _stored(container) == []


def test_bodies_that_cannot_be_parsed_or_stored_safely_are_400(
    client: TestClient, container: Container
) -> None:
    good = payment_intent_event("payment_intent.succeeded", intent_id="pi_1", event_id="evt_ok")
    cases = {
        # A lone surrogate escape: valid JSON, but no database stores it as text.
        good.replace(b'"payment_intent.succeeded"', b'"x\\ud800"'): "body_not_storable",
        good.replace(b'"pi_1"', b'"pi_\\udc00"'): "body_not_storable",
        good.replace(b'"object": "event"', b'"obj\\u0000ect": "event"'): "body_not_storable",
        # 100,000 levels: json.loads would raise RecursionError (a 500) before any check.
        good[:-1] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}": "body_too_deep",
        good[:-1] + b', "x": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}": (
            "body_too_deep"
        ),
        good.decode().encode("utf-16"): "body_not_utf8",
        good.replace(b"usd", b"\xff\xfe"): "body_not_utf8",
        b"[" + good + b"]": "malformed_body",
    }
    for body, code in cases.items():
        assert _rejected(client, body, signed_headers(body, WEBHOOK_SECRET)) == code
    assert _stored(container) == []
    # A surrogate pair is one character, brackets in a string are text: both are fine.
    fine = good.replace(b'"pi_1"', b'"pi_\\ud83c\\udfb6 [[[[ {{{{"')
    assert client.post(URL, content=fine, headers=signed_headers(fine, WEBHOOK_SECRET)).is_success
    assert _stored(container) == ["evt_ok"]


def test_metrics_count_outcomes(client: TestClient) -> None:
    body = payment_intent_event("payment_intent.succeeded", intent_id="pi_m")
    client.post(URL, content=body, headers=signed_headers(body, WEBHOOK_SECRET))
    client.post(URL, content=body, headers=signed_headers(body, "whsec_wrong"))
    text = client.get("/metrics").text
    assert 'eventpay_webhooks_received_total{outcome="stored",provider="stripe"} 1.0' in text
    assert (
        'eventpay_webhooks_received_total{outcome="signature_mismatch",provider="stripe"} 1.0'
        in text
    )
