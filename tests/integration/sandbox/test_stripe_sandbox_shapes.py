"""Every object the sandbox returns has the key set of Stripe's own example (fixtures3.json).

Rule per key: the example's value is null, or ours is null (nullable in Stripe), or both have
the same JSON type. Nested objects: where the example has two or more keys ours must have the
same keys; where it has fewer, ours must at least contain them. `event.data.object` is checked
against the example of its own resource.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

SK = {"Authorization": "Bearer sk_test_shapes"}
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    facts = Path(
        # A copy of the shared provider facts is kept in the repository so a fresh clone has
        # them; EVENTPAY_PROVIDER_FACTS points elsewhere to check against a newer copy.
        os.environ.get("EVENTPAY_PROVIDER_FACTS", str(REPO / "tests" / "fixtures" / "providers"))
    )
    path = facts / "stripe" / "fixtures3.json"
    if not path.is_file():
        pytest.fail(
            f"Stripe's example objects are missing: {path} does not exist. Set "
            "EVENTPAY_PROVIDER_FACTS to the provider facts directory (the one holding "
            "stripe/fixtures3.json).",
            pytrace=False,
        )
    resources: dict[str, Any] = json.loads(path.read_text())["resources"]
    return resources


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_problems(ours: Any, example: Any, where: str, examples: dict[str, Any]) -> list[str]:
    """Differences between our value and Stripe's example under the rule in the docstring."""
    if example is None or ours is None:
        return []
    if _json_type(ours) != _json_type(example):
        return [f"{where}: {_json_type(ours)} where Stripe has {_json_type(example)}"]
    if not isinstance(ours, dict):
        return []
    problems = []
    if len(example) >= 2 and set(ours) != set(example):
        missing, extra = sorted(set(example) - set(ours)), sorted(set(ours) - set(example))
        problems.append(f"{where}: missing {missing}, unexpected {extra}")
    elif not set(example) <= set(ours):
        problems.append(f"{where}: missing {sorted(set(example) - set(ours))}")
    for key in set(ours) & set(example):
        nested_ours, nested_example = ours[key], example[key]
        if key == "object" and where.endswith(".data") and isinstance(nested_ours, dict):
            nested_example = examples.get(nested_ours.get("object", ""), nested_example)
        problems += shape_problems(nested_ours, nested_example, f"{where}.{key}", examples)
    return problems


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
