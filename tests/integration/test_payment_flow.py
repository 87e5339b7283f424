"""One payment, end to end inside the process, on SQLite and PostgreSQL.

The real Stripe SDK talks to the sandbox over HTTP; the sandbox's own event for the intent is
posted to our webhook route signed with our secret, and the worker applies it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_data import MEMBER_ID
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import janitor
from eventpay.web import create_app
from eventpay.worker import Worker
from support.api import bearer, confirm_at_sandbox, create_order, start_payment
from support.events import signed_headers
from support.stack import WEBHOOK_SECRET, make_settings, seeded_container


def _sandbox_events(sandbox: str, intent_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox}/v1/events", params={"limit": 100}, auth=("sk_test_lookup", ""))
    response.raise_for_status()
    events = [e for e in response.json()["data"] if e["data"]["object"].get("id") == intent_id]
    return list(reversed(events))  # oldest first, as they happened


def _deliver(client: TestClient, event: dict[str, Any]) -> None:
    body = httpx.Request("POST", "http://x", json=event).content
    response = client.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
    )
    assert response.status_code == 200, response.text


def _order(client: TestClient, order_id: str) -> dict[str, Any]:
    data: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)).json()
    return data


def _actions(client: TestClient, order_id: str) -> list[str]:
    trail = client.get(f"/v1/orders/{order_id}/audit", headers=bearer("ops", Role.ADMIN)).json()
    return [row["action"] for row in trail]


def test_card_payment_confirms_the_registration(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = create_order(client, MEMBER_ID)
    payment = start_payment(client, MEMBER_ID, order["id"])
    assert payment["status"] == "created"
    assert payment["amount"] == order["total"]
    assert (
        confirm_at_sandbox(stripe_sandbox, payment["client_secret"], "pm_card_visa").status_code
        == 200
    )
    # Confirmation alone changes nothing here: only the provider's word does.
    assert _order(client, order["id"])["status"] == "awaiting_payment"
    intent_id = payment["client_secret"].split("_secret_")[0]
    for event in _sandbox_events(stripe_sandbox, intent_id):
        _deliver(client, event)
    Worker(container).run_once()
    paid = _order(client, order["id"])
    assert paid["status"] == "paid"
    assert paid["amount_paid"] == order["total"]
    assert paid["registrations"][0]["status"] == "confirmed"
    assert paid["payments"][0]["status"] == "succeeded"
    actions = _actions(client, order["id"])
    assert actions.count("payment.succeeded") == 1
    assert actions.count("order.paid") == 1
    assert actions.count("registration.confirmed") == 1
    again = client.post(
        f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, headers=bearer(MEMBER_ID)
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_already_paid"


def test_declined_card_fails_the_attempt_not_the_order(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = create_order(client, MEMBER_ID)
    payment = start_payment(client, MEMBER_ID, order["id"])
    declined = confirm_at_sandbox(
        stripe_sandbox, payment["client_secret"], "pm_card_chargeDeclined"
    )
    assert declined.status_code == 402
    intent_id = payment["client_secret"].split("_secret_")[0]
    for event in _sandbox_events(stripe_sandbox, intent_id):
        _deliver(client, event)
    Worker(container).run_once()
    view = _order(client, order["id"])
    assert view["status"] == "awaiting_payment"
    assert view["payments"][0]["status"] == "failed"
    assert view["payments"][0]["failure_code"] == "generic_decline"
    assert view["registrations"][0]["status"] == "pending"


def test_open_attempt_is_reused_not_duplicated(client: TestClient) -> None:
    order = create_order(client, MEMBER_ID)
    first = start_payment(client, MEMBER_ID, order["id"])
    second = start_payment(client, MEMBER_ID, order["id"])
    assert first["id"] == second["id"]
    assert first["client_secret"] == second["client_secret"]
    assert len(_order(client, order["id"])["payments"]) == 1


def test_someone_elses_order_cannot_be_paid(client: TestClient) -> None:
    order = create_order(client, MEMBER_ID)
    response = client.post(
        f"/v1/orders/{order['id']}/payments",
        json={"provider": "stripe"},
        headers=bearer("intruder"),
    )
    assert response.status_code == 404
    assert _order(client, order["id"])["payments"] == []


def test_a_disabled_provider_is_refused(database_url: str, stripe_sandbox: str) -> None:
    settings = make_settings(database_url, stripe_sandbox, paypal_enabled=False)
    with (
        seeded_container(settings) as container,
        TestClient(create_app(container=container)) as client,
    ):
        order = create_order(client, MEMBER_ID)
        response = client.post(
            f"/v1/orders/{order['id']}/payments",
            json={"provider": "paypal"},
            headers=bearer(MEMBER_ID),
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "provider_unavailable"
        assert response.json()["error"]["details"]["available"] == ["stripe"]
        assert client.get("/v1/payment-config").json()["paypal"] is None


@pytest.fixture
def faulty_sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.mark.parametrize("mode", ["http_500", "delay"])
def test_provider_timeout_or_5xx_leaves_the_attempt_unknown_then_resolves(
    database_url: str, faulty_sandbox: str, mode: str
) -> None:
    settings = make_settings(database_url, faulty_sandbox, stripe_timeout_s=0.5)
    with (
        seeded_container(settings) as container,
        TestClient(create_app(container=container)) as client,
    ):
        fault = {"path_prefix": "/v1/payment_intents", "method": "POST", "mode": mode, "times": 1}
        if mode == "delay":
            fault["delay_s"] = 1.5
        httpx.post(f"{faulty_sandbox}/_sandbox/faults", json=fault).raise_for_status()
        order = create_order(client, MEMBER_ID)
        response = client.post(
            f"/v1/orders/{order['id']}/payments",
            json={"provider": "stripe"},
            headers=bearer(MEMBER_ID),
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "provider_outcome_unknown"
        assert response.headers["retry-after"]
        view = _order(client, order["id"])
        assert [p["status"] for p in view["payments"]] == ["unknown"]
        assert view["status"] == "awaiting_payment"
        # The janitor asks again with the same idempotency key: one intent, now linked. While
        # the slow first call is still running at the provider it answers 409 (in use), so
        # the janitor keeps the attempt unknown and asks again after its backoff (each round
        # below runs an hour later on the janitor's clock, so every round finds it due).
        deadline, rounds = time.monotonic() + 10, itertools.count(1)
        while time.monotonic() < deadline:
            later = container.clock() + timedelta(hours=next(rounds))
            if janitor.resolve_unknown(
                uow_factory=container.uow_factory,
                providers=container.providers,
                clock=_fixed(later),
            ):
                break
            time.sleep(0.2)
        resolved = _order(client, order["id"])["payments"]
        assert [p["status"] for p in resolved] == ["created"]
        intents = httpx.get(
            f"{faulty_sandbox}/v1/payment_intents", params={"limit": 100}, auth=("sk_test_x", "")
        ).json()["data"]
        ours = [i for i in intents if i["metadata"].get("order_id") == order["id"]]
        assert len(ours) == 1


def _fixed(at: datetime) -> Any:
    return lambda: at
