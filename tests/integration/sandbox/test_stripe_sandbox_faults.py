"""Injected faults: 500s that run nothing, and slow answers that still perform the operation."""

from __future__ import annotations

import httpx
import pytest
import stripe

PARAMS = {"amount": 4500, "currency": "usd"}


def _arm(http: httpx.Client, **spec: object) -> dict[str, object]:
    answer = http.post("/_sandbox/faults", json=spec)
    assert answer.status_code == 201, answer.text
    fault: dict[str, object] = answer.json()
    return fault


def test_http_500_fault_fails_the_next_matching_requests_only(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    _arm(http, path_prefix="/v1/payment_intents", method="POST", mode="http_500", times=2)

    failures = []
    for _ in range(2):
        with pytest.raises(stripe.APIError) as caught:
            client.v1.payment_intents.create(params=PARAMS)
        failures.append(caught.value)
    listed = client.v1.payment_intents.list()
    third = client.v1.payment_intents.create(params=PARAMS)

    assert [f.http_status for f in failures] == [500, 500]
    assert failures[0].json_body is not None
    assert failures[0].json_body["error"]["type"] == "api_error"
    assert listed.data == []
    assert third.status == "requires_payment_method"
    assert http.get("/_sandbox/faults").json()["data"] == []


def test_a_retry_with_the_same_key_after_a_500_runs_the_request(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    _arm(http, path_prefix="/v1/payment_intents", mode="http_500", times=1)

    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "retry-1"})
    intent = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "retry-1"})

    assert intent.last_response is not None
    assert intent.last_response.headers.get("Idempotent-Replayed") is None
    assert [pi.id for pi in client.v1.payment_intents.list().data] == [intent.id]


def test_delay_fault_times_the_client_out_but_still_performs_the_operation(
    sandbox_url: str, client: stripe.StripeClient, http: httpx.Client, make_client, wait_until
) -> None:
    _arm(http, path_prefix="/v1/payment_intents", method="POST", mode="delay", delay_s=0.6)
    impatient = make_client(http_client=stripe.RequestsClient(timeout=0.15))

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "slow-1"})
    # The outcome is unknown to the client; the same key tells it what happened.
    # The fault is consumed in the same step that reserves the key, so both together mean done.
    wait_until(
        lambda: (
            http.get("/_sandbox/faults").json()["data"] == []
            and http.get("/_sandbox/idempotency").json()["in_flight"] == 0
        ),
        "the slow request to finish",
    )
    recovered = client.v1.payment_intents.create(
        params=PARAMS, options={"idempotency_key": "slow-1"}
    )

    assert recovered.last_response is not None
    assert recovered.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [pi.id for pi in client.v1.payment_intents.list().data] == [recovered.id]


def test_faults_match_method_and_path_prefix(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    _arm(http, path_prefix="/v1/charges", method="GET", mode="http_500", times=1)

    intent = client.v1.payment_intents.create(params=PARAMS)
    with pytest.raises(stripe.APIError):
        client.v1.charges.list()

    assert intent.id.startswith("pi_")
    assert client.v1.charges.list().data == []


def test_faults_can_be_listed_and_cleared(client: stripe.StripeClient, http: httpx.Client) -> None:
    armed = _arm(http, path_prefix="/v1", mode="http_500", times=3)

    listed = http.get("/_sandbox/faults").json()["data"]
    cleared = http.delete("/_sandbox/faults").json()
    intent = client.v1.payment_intents.create(params=PARAMS)

    assert [f["id"] for f in listed] == [armed["id"]]
    assert listed[0]["remaining"] == 3
    assert listed[0]["method"] is None
    assert cleared == {"cleared": 1}
    assert intent.status == "requires_payment_method"


@pytest.mark.parametrize(
    "spec",
    [
        {"mode": "explode"},
        {"mode": "http_500", "times": 0},
        {"mode": "delay", "delay_s": -1},
        {"mode": "http_500", "path_prefix": "v1"},
        {"mode": "http_500", "colour": "red"},
    ],
)
def test_malformed_fault_specs_are_rejected(http: httpx.Client, spec: dict[str, object]) -> None:
    answer = http.post("/_sandbox/faults", json=spec)

    assert answer.status_code == 400
    assert "invalid fault" in answer.json()["error"]["message"]
    assert http.get("/_sandbox/faults").json()["data"] == []


def test_reset_forgets_objects_keys_and_faults(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "reset-1"})
    _arm(http, mode="http_500", times=5)

    http.post("/_sandbox/reset").raise_for_status()
    again = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "reset-1"})

    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") is None
    assert [pi.id for pi in client.v1.payment_intents.list().data] == [again.id]
    assert http.get("/_sandbox/faults").json()["data"] == []


# `status` faults: Stripe's own error for a status, or a given body (a malformed 2xx). The old
# fault book knew only http_500 and delay.


@pytest.mark.parametrize(
    ("status", "error_class", "code"),
    [
        (401, stripe.AuthenticationError, "api_key_invalid"),
        (403, stripe.PermissionError, None),
        (409, stripe.APIError, "idempotency_key_in_use"),
        (429, stripe.RateLimitError, "rate_limit"),
        (503, stripe.APIError, None),
    ],
)
def test_status_fault_answers_stripes_error_for_that_status(
    client: stripe.StripeClient,
    http: httpx.Client,
    status: int,
    error_class: type[stripe.StripeError],
    code: str | None,
) -> None:
    _arm(http, path_prefix="/v1/payment_intents", mode="status", status=status)

    with pytest.raises(error_class) as caught:
        client.v1.payment_intents.create(params=PARAMS)

    assert caught.value.http_status == status
    assert caught.value.json_body is not None
    assert caught.value.json_body["error"].get("code") == code
    assert client.v1.payment_intents.list().data == []


def test_status_fault_with_a_body_answers_it_verbatim(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    _arm(http, mode="status", status=200, body={"object": "payment_intent", "id": "pi_x"})

    answer = client.v1.payment_intents.create(params=PARAMS)

    assert answer.to_dict() == {"object": "payment_intent", "id": "pi_x"}


@pytest.mark.parametrize(
    "spec",
    [
        {"mode": "status"},
        {"mode": "status", "status": 200},  # a 2xx needs its body
        {"mode": "status", "status": 700},
        {"mode": "status", "status": 500, "body": []},
        {"mode": "http_500", "status": 500},
    ],
)
def test_malformed_status_faults_are_refused(http: httpx.Client, spec: dict[str, object]) -> None:
    answer = http.post("/_sandbox/faults", json=spec)

    assert answer.status_code == 400
    assert http.get("/_sandbox/faults").json()["data"] == []
