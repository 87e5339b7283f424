"""Publishable keys, the way Stripe.js uses them: confirm and retrieve with the client_secret."""

from __future__ import annotations

import httpx
import pytest
import stripe

PK = {"Authorization": "Bearer pk_test_sandbox"}


def test_publishable_confirm_with_client_secret_succeeds(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    answer = http.post(
        f"/v1/payment_intents/{intent.id}/confirm",
        data={"client_secret": intent.client_secret, "payment_method": "pm_card_visa"},
        headers=PK,
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_publishable_confirm_with_wrong_client_secret_is_rejected(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})
    other = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})

    answer = http.post(
        f"/v1/payment_intents/{intent.id}/confirm",
        data={"client_secret": other.client_secret, "payment_method": "pm_card_visa"},
        headers=PK,
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "client_secret"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert client.v1.charges.list().data == []


def test_publishable_confirm_without_client_secret_is_rejected(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    answer = http.post(
        f"/v1/payment_intents/{intent.id}/confirm",
        data={"payment_method": "pm_card_visa"},
        headers=PK,
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "parameter_missing"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_publishable_retrieve_needs_the_matching_client_secret(
    client: stripe.StripeClient, make_client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})
    browser = make_client("pk_test_sandbox")

    seen = browser.v1.payment_intents.retrieve(
        intent.id, params={"client_secret": intent.client_secret}
    )
    try:
        browser.v1.payment_intents.retrieve(intent.id, params={"client_secret": "pi_x_secret_y"})
    except stripe.InvalidRequestError as exc:
        refused = exc
    else:
        refused = None

    assert seen.id == intent.id
    assert refused is not None
    assert refused.param == "client_secret"


def test_publishable_key_cannot_create_or_cancel(client: stripe.StripeClient, make_client) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})
    browser = make_client("pk_test_sandbox")

    failures = []
    for attempt in (
        lambda: browser.v1.payment_intents.create(params={"amount": 1, "currency": "usd"}),
        lambda: browser.v1.payment_intents.cancel(intent.id),
    ):
        try:
            attempt()
        except stripe.AuthenticationError as exc:
            failures.append(exc.http_status)

    assert failures == [401, 401]
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_cors_preflight_allows_browser_confirm(http: httpx.Client) -> None:
    answer = http.options(
        "/v1/payment_intents/pi_x/confirm",
        headers={
            "Origin": "http://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] in ("*", "http://shop.example")


def test_browser_script_and_index_are_served(http: httpx.Client) -> None:
    script = http.get("/js/sandbox-stripe.js")
    index = http.get("/")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "confirmCardPayment" in script.text
    assert "SandboxStripe" in script.text
    assert index.status_code == 200
    assert "pm_card_authenticationRequired" in index.text
    assert "pm_card_chargeDeclinedInsufficientFunds" in index.text


# Stripe.js sends the publishable key as the `key` parameter (form body for POST, query for
# GET) and no Authorization header. The old sandbox answered such a request 401 "You did not
# provide an API key" and, with a header too, refused `key` as an unknown parameter.


def test_key_parameter_confirms_like_stripe_js(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    answer = http.post(
        f"/v1/payment_intents/{intent.id}/confirm",
        data={
            "key": "pk_test_sandbox",
            "client_secret": intent.client_secret,
            "payment_method": "pm_card_visa",
        },
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"


def test_key_parameter_in_the_query_retrieves_with_the_client_secret(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    seen = http.get(
        f"/v1/payment_intents/{intent.id}",
        params={"key": "pk_test_sandbox", "client_secret": intent.client_secret},
    )
    refused = http.get(
        f"/v1/payment_intents/{intent.id}",
        params={"key": "pk_test_sandbox", "client_secret": "pi_x_secret_y"},
    )

    assert seen.status_code == 200
    assert seen.json()["id"] == intent.id
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "client_secret"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("sk_test_sandbox", "A secret API key cannot be sent as the `key` parameter"),
        ("rk_test_sandbox", "A secret API key cannot be sent as the `key` parameter"),
        ("pk_live_unknown", "Invalid API Key provided: pk_live_***nown"),
        ("nonsense", "Invalid API Key provided: ****"),
    ],
)
def test_a_secret_or_unknown_key_parameter_gets_stripes_401(
    client: stripe.StripeClient, http: httpx.Client, key: str, words: str
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    answer = http.post(
        f"/v1/payment_intents/{intent.id}/confirm",
        data={"key": key, "client_secret": intent.client_secret, "payment_method": "pm_card_visa"},
    )

    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(words)
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_a_publishable_key_parameter_cannot_create(http: httpx.Client) -> None:
    answer = http.post(
        "/v1/payment_intents", data={"key": "pk_test_sandbox", "amount": 1, "currency": "usd"}
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "secret_key_required"


def test_the_browser_script_sends_the_key_as_a_parameter(http: httpx.Client) -> None:
    script = http.get("/js/sandbox-stripe.js").text

    assert 'body.append("key", publishableKey)' in script
    assert '"Authorization":' not in script
