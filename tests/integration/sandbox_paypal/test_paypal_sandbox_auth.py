"""OAuth client credentials, bearer tokens, 401s, expiry and refresh, fixed credentials."""

from __future__ import annotations

import httpx

from eventpay.sandbox.paypal import BackgroundServer, create_app
from support.paypal_openapi import validate_response

ORDERS = "checkout_orders_v2"


def test_token_has_paypal_shape(http: httpx.Client) -> None:
    response = http.post(
        "/v1/oauth2/token",
        auth=("my-client", "my-secret"),
        data={"grant_type": "client_credentials"},
    )

    token = response.json()
    assert response.status_code == 200
    assert set(token) == {"scope", "access_token", "token_type", "app_id", "expires_in", "nonce"}
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 32400
    assert token["app_id"].startswith("APP-")
    assert "https://uri.paypal.com/services/payments/refund" in token["scope"].split()


def test_token_needs_basic_credentials_and_the_client_credentials_grant(http: httpx.Client) -> None:
    no_auth = http.post("/v1/oauth2/token", data={"grant_type": "client_credentials"})
    wrong_grant = http.post("/v1/oauth2/token", auth=("a", "b"), data={"grant_type": "password"})
    no_grant = http.post("/v1/oauth2/token", auth=("a", "b"))

    assert no_auth.status_code == 401
    assert no_auth.json()["error"] == "invalid_client"
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    assert no_grant.status_code == 400


def test_api_calls_need_a_known_bearer_token(http: httpx.Client) -> None:
    missing = http.get("/v2/checkout/orders/ANY")
    unknown = http.get("/v2/checkout/orders/ANY", headers={"Authorization": "Bearer nope"})

    assert missing.status_code == 401
    validate_response(ORDERS, "/v2/checkout/orders/{id}", "GET", 401, missing.json())
    assert missing.json()["name"] == "AUTHENTICATION_FAILURE"
    assert missing.headers["PayPal-Debug-Id"] == missing.json()["debug_id"]
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"


def test_expired_tokens_get_401_and_a_new_token_works(paypal, http: httpx.Client) -> None:
    order = paypal.create_order()

    expired = http.post("/_sandbox/tokens/expire").json()["expired"]
    refused = paypal.get(f"/v2/checkout/orders/{order['id']}")
    token = http.post(
        "/v1/oauth2/token",
        auth=("sandbox-client", "s3cret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    again = http.get(
        f"/v2/checkout/orders/{order['id']}", headers={"Authorization": f"Bearer {token}"}
    )

    assert expired >= 1
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "invalid_token",
        "error_description": "Access Token not found in cache",
    }
    assert again.status_code == 200
    assert again.json()["id"] == order["id"]


def test_fixed_credentials_are_the_only_ones_that_get_tokens() -> None:
    app = create_app(environment="test", client_id="the-client", client_secret="the-secret")
    with BackgroundServer(app) as server, httpx.Client(base_url=server.base_url) as http:
        grant = {"grant_type": "client_credentials"}
        good = http.post("/v1/oauth2/token", auth=("the-client", "the-secret"), data=grant)
        bad_secret = http.post("/v1/oauth2/token", auth=("the-client", "guess"), data=grant)
        other = http.post("/v1/oauth2/token", auth=("someone", "the-secret"), data=grant)

    assert good.status_code == 200
    assert bad_secret.status_code == 401
    assert other.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
