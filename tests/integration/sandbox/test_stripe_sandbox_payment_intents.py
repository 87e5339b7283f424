"""PaymentIntent lifecycle through the real stripe SDK: create, retrieve, list, update, cancel."""

from __future__ import annotations

import httpx
import pytest
import stripe


def test_create_parses_nested_form_parameters(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4500,
            "currency": "USD",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"event_id": "evt-42", "order_id": "ord-7"},
            "description": "Registration, Pro class",
            "receipt_email": "buyer@example.com",
            "transfer_group": "ord-7",
        },
        options={"idempotency_key": "create-nested"},
    )

    assert intent.id.startswith("pi_")
    assert len(intent.id) == 27
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.status == "requires_payment_method"
    assert intent.amount == 4500
    assert intent.currency == "usd"
    assert intent.metadata.to_dict() == {"event_id": "evt-42", "order_id": "ord-7"}
    assert intent.automatic_payment_methods.enabled is True
    assert intent.description == "Registration, Pro class"
    assert intent.receipt_email == "buyer@example.com"
    assert intent.transfer_group == "ord-7"
    assert intent.latest_charge is None


def test_retrieve_returns_the_stored_intent(client: stripe.StripeClient) -> None:
    created = client.v1.payment_intents.create(params={"amount": 1200, "currency": "eur"})

    fetched = client.v1.payment_intents.retrieve(created.id)

    assert fetched.to_dict() == created.to_dict()


def test_retrieve_unknown_intent_is_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.retrieve("pi_doesnotexist000000000000")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert "pi_doesnotexist000000000000" in str(caught.value.user_message)


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"currency": "usd"}, "parameter_missing", "amount"),
        ({"amount": 100}, "parameter_missing", "currency"),
        ({"amount": 0, "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": "ten", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": 100, "currency": "usd", "colour": "red"}, "parameter_unknown", "colour"),
    ],
)
def test_create_rejects_invalid_parameters(
    client: stripe.StripeClient, params: dict[str, object], code: str, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]

    assert caught.value.http_status == 400
    assert caught.value.code == code
    assert caught.value.param == param


def test_update_changes_amount_merges_metadata_and_unsets_keys(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "metadata": {"a": "1", "b": "2"}}
    )

    updated = client.v1.payment_intents.update(
        intent.id,
        params={"amount": 2500, "description": "changed", "metadata": {"b": "", "c": "3"}},
    )

    assert updated.amount == 2500
    assert updated.description == "changed"
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert client.v1.payment_intents.retrieve(intent.id).amount == 2500


def test_list_is_newest_first_and_pages(client: stripe.StripeClient) -> None:
    ids = [
        client.v1.payment_intents.create(params={"amount": 100 + i, "currency": "usd"}).id
        for i in range(3)
    ]

    first = client.v1.payment_intents.list(params={"limit": 2})
    rest = client.v1.payment_intents.list(params={"limit": 2, "starting_after": first.data[-1].id})

    assert [pi.id for pi in first.data] == ids[::-1][:2]
    assert first.has_more is True
    assert [pi.id for pi in rest.data] == ids[:1]
    assert rest.has_more is False


def test_cancel_records_reason_and_emits_event(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})

    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "abandoned"}
    )

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"
    assert isinstance(canceled.canceled_at, int)
    events = client.v1.events.list(params={"type": "payment_intent.canceled"})
    assert [e.data.object.id for e in events.data] == [intent.id]


def test_cancel_after_success_is_refused(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(intent.id)

    assert caught.value.http_status == 400
    assert caught.value.code == "payment_intent_unexpected_state"
    assert "status of succeeded" in str(caught.value.user_message)
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_amount_is_frozen_once_succeeded_but_metadata_is_not(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.update(intent.id, params={"amount": 5})
    noted = client.v1.payment_intents.update(intent.id, params={"metadata": {"note": "vip"}})

    assert caught.value.code == "payment_intent_unexpected_state"
    assert noted.amount == 1000
    assert noted.metadata.to_dict() == {"note": "vip"}


def test_cancel_with_unknown_reason_is_rejected(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "bored"})  # type: ignore[typeddict-item]

    assert caught.value.param == "cancellation_reason"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        (None, "You did not provide an API key"),
        ("Bearer sk_live_abcdef123456", "Invalid API Key provided"),
        ("Bearer nonsense", "Invalid API Key provided"),
        ("Bearer pk_test_abcdef", "publishable API key"),
    ],
)
def test_secret_key_routes_authenticate_like_stripe(
    http: httpx.Client, authorization: str | None, fragment: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = http.post(
        "/v1/payment_intents", data={"amount": "100", "currency": "usd"}, headers=headers
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert fragment in error["message"]
    assert "sk_live_abcdef123456" not in error["message"]


def test_basic_auth_with_secret_key_is_accepted(http: httpx.Client) -> None:
    response = http.post(
        "/v1/payment_intents", data={"amount": "100", "currency": "usd"}, auth=("sk_test_x", "")
    )

    assert response.status_code == 200
    assert response.json()["object"] == "payment_intent"
    assert response.headers["Request-Id"].startswith("req_")


def test_unknown_v1_route_answers_stripe_404(http: httpx.Client) -> None:
    response = http.get("/v1/quotes", headers={"Authorization": "Bearer sk_test_x"})

    assert response.status_code == 404
    assert "Unrecognized request URL (GET: /v1/quotes)" in response.json()["error"]["message"]
