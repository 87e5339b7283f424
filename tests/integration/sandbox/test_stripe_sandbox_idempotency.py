"""Idempotency-Key semantics: replay, parameter mismatch, in-use 409, per-API-key scope."""

from __future__ import annotations

import threading

import httpx
import pytest
import stripe

from eventpay.sandbox.stripe import BackgroundServer, create_app

PARAMS = {"amount": 4500, "currency": "usd", "metadata": {"attempt_id": "a-1"}}


def _replayed(obj: stripe.StripeObject) -> str | None:
    assert obj.last_response is not None
    return obj.last_response.headers.get("Idempotent-Replayed")


def test_same_key_and_parameters_replay_the_first_response(client: stripe.StripeClient) -> None:
    first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-1"})

    again = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-1"})

    assert again.to_dict() == first.to_dict()
    assert again.last_response is not None
    assert first.last_response is not None
    assert again.last_response.body == first.last_response.body
    assert again.last_response.code == first.last_response.code == 200
    assert _replayed(again) == "true"
    assert _replayed(first) is None
    assert len(client.v1.payment_intents.list().data) == 1
    created_events = client.v1.events.list(params={"type": "payment_intent.created"}).data
    assert len(created_events) == 1
    assert created_events[0].request.idempotency_key == "k-1"


def test_same_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-2"})

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.payment_intents.create(
            params={**PARAMS, "amount": 4501}, options={"idempotency_key": "k-2"}
        )

    assert caught.value.http_status == 400
    assert caught.value.json_body is not None
    assert caught.value.json_body["error"]["type"] == "idempotency_error"
    assert "can only be used with the same parameters" in str(caught.value.user_message)
    assert len(client.v1.payment_intents.list().data) == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-3"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.cancel(intent.id, options={"idempotency_key": "k-3"})

    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_keys_are_scoped_per_api_key(make_client) -> None:
    one = make_client("sk_test_account_one")
    two = make_client("sk_test_account_two")

    first = one.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "shared"})
    second = two.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "shared"})

    assert first.id != second.id
    assert _replayed(second) is None


def test_card_errors_are_replayed_without_charging_again(client: stripe.StripeClient) -> None:
    params = {**PARAMS, "payment_method": "pm_card_chargeDeclined", "confirm": True}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as caught:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "k-4"})
        errors.append(caught.value)

    assert errors[0].json_body == errors[1].json_body
    assert errors[1].http_status == 402
    assert errors[1].headers is not None
    assert errors[1].headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.charges.list().data) == 1


def test_validation_errors_are_not_remembered(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params={"amount": 4500}, options={"idempotency_key": "k-5"}
        )

    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-5"})

    assert intent.status == "requires_payment_method"
    assert _replayed(intent) is None


def test_concurrent_duplicate_gets_409_while_the_first_runs(
    client: stripe.StripeClient, http: httpx.Client, wait_until
) -> None:
    http.post(
        "/_sandbox/faults",
        json={
            "path_prefix": "/v1/payment_intents",
            "method": "POST",
            "mode": "delay",
            "delay_s": 0.8,
            "times": 1,
        },
    ).raise_for_status()
    results: list[stripe.PaymentIntent] = []
    first = threading.Thread(
        target=lambda: results.append(
            client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-6"})
        )
    )
    first.start()
    wait_until(
        lambda: http.get("/_sandbox/idempotency").json()["in_flight"] == 1,
        "the first request to hold its idempotency key",
    )

    with pytest.raises(stripe.APIError) as caught:
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-6"})
    first.join(timeout=10)
    replay = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-6"})

    assert caught.value.http_status == 409
    assert caught.value.json_body is not None
    assert caught.value.json_body["error"]["code"] == "idempotency_key_in_use"
    assert len(results) == 1
    assert replay.id == results[0].id
    assert len(client.v1.payment_intents.list().data) == 1


# The key window: Stripe forgets keys after about 24 hours; the old sandbox had a fixed 24 h
# and no way to reach its end, so the service could not be tested against an expired key.


def test_after_the_window_the_same_key_creates_a_new_object(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    assert http.get("/_sandbox/idempotency/window").json() == {"window_s": 24 * 60 * 60}
    first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-7"})

    http.post("/_sandbox/idempotency/age", json={"seconds": 24 * 60 * 60 - 60})
    within = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-7"})
    http.post("/_sandbox/idempotency/age", json={"seconds": 120})
    after = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-7"})

    assert within.id == first.id
    assert _replayed(within) == "true"
    assert after.id != first.id
    assert _replayed(after) is None
    assert len(client.v1.payment_intents.list().data) == 2


def test_the_window_is_set_per_sandbox(
    client: stripe.StripeClient, http: httpx.Client, sandbox_url: str
) -> None:
    with (
        BackgroundServer(create_app(idempotency_window_s=30)) as other,
        httpx.Client(base_url=other.base_url, timeout=5) as control,
    ):
        assert control.get("/_sandbox/idempotency/window").json() == {"window_s": 30}
    assert http.get("/_sandbox/idempotency/window").json() == {"window_s": 24 * 60 * 60}

    http.post("/_sandbox/idempotency/window", json={"window_s": 60}).raise_for_status()
    try:
        first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-8"})
        http.post("/_sandbox/idempotency/age", json={"seconds": 61})
        after = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "k-8"})
    finally:
        http.post("/_sandbox/idempotency/window", json={"window_s": 24 * 60 * 60})

    assert after.id != first.id


@pytest.mark.parametrize("body", [{}, {"window_s": 0}, {"window_s": "60"}, {"window_s": True}])
def test_a_window_must_be_a_positive_number(http: httpx.Client, body: dict[str, object]) -> None:
    answer = http.post("/_sandbox/idempotency/window", json=body)

    assert answer.status_code == 400
    assert http.get("/_sandbox/idempotency/window").json() == {"window_s": 24 * 60 * 60}
