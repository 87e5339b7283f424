"""Every object the sandbox returns has the key set of Stripe's own example (fixtures3.json).

The comparison rule is in sandbox_shapes.py; refunds are checked in test_stripe_sandbox_refunds.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_shapes import load_examples, shape_problems

SK = {"Authorization": "Bearer sk_test_shapes"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _post(http: httpx.Client, path: str, data: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = http.post(path, data=data, headers=SK).json()
    return body


def _get(http: httpx.Client, path: str) -> dict[str, Any]:
    body: dict[str, Any] = http.get(path, headers=SK).json()
    return body


def _intents_in_every_status(http: httpx.Client) -> list[dict[str, Any]]:
    base = {"amount": "4500", "currency": "usd", "metadata[event_id]": "e1"}
    fresh = _post(
        http, "/v1/payment_intents", {**base, "automatic_payment_methods[enabled]": "true"}
    )
    waiting = _post(http, "/v1/payment_intents", {**base, "payment_method": "pm_card_visa"})
    paid = _post(http, f"/v1/payment_intents/{waiting['id']}/confirm", {})
    declined = _post(
        http,
        "/v1/payment_intents",
        {**base, "payment_method": "pm_card_chargeDeclined", "confirm": "true"},
    )
    redirect = _post(
        http,
        "/v1/payment_intents",
        {
            **base,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": "https://shop.example/back",
        },
    )
    sdk_action = _post(
        http,
        "/v1/payment_intents",
        {**base, "payment_method": "pm_card_authenticationRequired", "confirm": "true"},
    )
    authenticated = http.post(f"/sandbox/3ds/{redirect['id']}/complete").json()
    failed_3ds = http.post(f"/sandbox/3ds/{sdk_action['id']}/fail").json()
    canceled = _post(http, f"/v1/payment_intents/{fresh['id']}/cancel", {})
    return [
        fresh,
        waiting,
        paid,
        declined["error"]["payment_intent"],
        _get(http, f"/v1/payment_intents/{declined['error']['payment_intent']['id']}"),
        redirect,
        sdk_action,
        authenticated,
        failed_3ds,
        canceled,
        *_get(http, "/v1/payment_intents")["data"],
    ]


def test_payment_intents_have_stripes_keys(http: httpx.Client, examples: dict[str, Any]) -> None:
    intents = _intents_in_every_status(http)

    statuses = {intent["status"] for intent in intents}
    problems = [
        problem
        for intent in intents
        for problem in shape_problems(
            intent, examples["payment_intent"], intent["status"], examples
        )
    ]
    assert statuses >= {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "succeeded",
        "canceled",
    }
    assert problems == []
    assert all(set(intent) == set(examples["payment_intent"]) for intent in intents)


def test_charges_have_stripes_keys(http: httpx.Client, examples: dict[str, Any]) -> None:
    _intents_in_every_status(http)

    charges = _get(http, "/v1/charges")["data"]
    problems = [
        problem
        for charge in charges
        for problem in shape_problems(charge, examples["charge"], charge["id"], examples)
    ]
    assert {charge["status"] for charge in charges} == {"succeeded", "failed"}
    assert problems == []
    assert all(set(charge) == set(examples["charge"]) for charge in charges)


def test_events_have_stripes_keys_and_resource_snapshots(
    http: httpx.Client, examples: dict[str, Any]
) -> None:
    _intents_in_every_status(http)

    events = _get(http, "/v1/events?limit=100")["data"]
    problems = [
        problem
        for event in events
        for problem in shape_problems(event, examples["event"], event["type"], examples)
    ]
    assert {event["type"] for event in events} == {
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.succeeded",
        "charge.failed",
    }
    assert problems == []
    assert all(set(event) == set(examples["event"]) for event in events)


def test_webhook_endpoints_have_stripes_keys(http: httpx.Client, examples: dict[str, Any]) -> None:
    created = _post(
        http,
        "/v1/webhook_endpoints",
        {"url": "https://service.example/hooks", "enabled_events[0]": "*", "metadata[team]": "pay"},
    )
    fetched = _get(http, f"/v1/webhook_endpoints/{created['id']}")
    listed = _get(http, "/v1/webhook_endpoints")["data"]

    example = examples["webhook_endpoint"]
    # Stripe adds the signing secret to the creation response only.
    assert set(created) == set(example) | {"secret"}
    assert set(fetched) == set(example)
    assert [set(item) for item in listed] == [set(example)]
    assert shape_problems(fetched, example, "webhook_endpoint", examples) == []


def test_shape_check_catches_a_wrong_key_set(examples: dict[str, Any]) -> None:
    broken = {k: v for k, v in examples["charge"].items() if k != "outcome"}
    broken["amount"] = "100"

    problems = shape_problems(broken, examples["charge"], "charge", examples)

    assert any("missing ['outcome']" in p for p in problems)
    assert any("charge.amount: str where Stripe has number" in p for p in problems)


def test_shape_check_compares_event_snapshots_with_their_resource(
    examples: dict[str, Any],
) -> None:
    snapshot = {k: v for k, v in examples["payment_intent"].items() if k != "status"}
    event = {**examples["event"], "data": {"object": snapshot}}

    problems = shape_problems(event, examples["event"], "evt", examples)

    assert problems == ["evt.data.object: missing ['status'], unexpected []"]
