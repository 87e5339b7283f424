"""Webhook endpoints, signed deliveries checked by the SDK, retries, resend, start-up endpoints."""

from __future__ import annotations

import socket

import httpx
import pytest
import stripe

from eventpay.sandbox.stripe import BackgroundServer, RetryPolicy, create_app


def _endpoint(client: stripe.StripeClient, url: str, events: list[str]) -> stripe.WebhookEndpoint:
    return client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": events})


def _paid_intent(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 4500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )


def _attempts(http: httpx.Client, event_id: str) -> list[dict[str, object]]:
    data: list[dict[str, object]] = http.get(
        "/_sandbox/deliveries", params={"event_id": event_id}
    ).json()["data"]
    return data


def test_endpoints_can_be_created_listed_and_deleted(client: stripe.StripeClient) -> None:
    created = _endpoint(client, "https://service.example/hooks", ["*"])

    listed = client.v1.webhook_endpoints.list()
    deleted = client.v1.webhook_endpoints.delete(created.id)

    assert created.id.startswith("we_")
    assert created.secret.startswith("whsec_")
    assert [ep.id for ep in listed.data] == [created.id]
    assert "secret" not in listed.data[0]
    assert deleted.deleted is True
    assert client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(created.id)


def test_endpoint_rejects_a_bad_url_and_unknown_event_names(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as bad_url:
        _endpoint(client, "not a url", ["*"])
    with pytest.raises(stripe.InvalidRequestError) as bad_event:
        _endpoint(client, "https://service.example/hooks", ["Payment Succeeded"])

    assert bad_url.value.param == "url"
    assert bad_event.value.param == "enabled_events[0]"


def test_delivery_is_signed_so_the_sdk_verifies_it(
    client: stripe.StripeClient, http: httpx.Client, receiver, wait_until
) -> None:
    endpoint = _endpoint(client, receiver.url, ["payment_intent.succeeded"])

    intent = _paid_intent(client)
    delivery = wait_until(lambda: receiver.received(), "a webhook delivery")[0]

    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], endpoint.secret
    )
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.data.object.status == "succeeded"
    assert delivery.headers["Content-Type"].startswith("application/json")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body, delivery.headers["Stripe-Signature"], "whsec_someone_else"
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body + b" ", delivery.headers["Stripe-Signature"], endpoint.secret
        )


def test_only_subscribed_event_types_are_delivered(
    client: stripe.StripeClient, http: httpx.Client, receiver, wait_until
) -> None:
    _endpoint(client, receiver.url, ["payment_intent.succeeded"])

    _paid_intent(client)
    wait_until(lambda: receiver.received(), "a webhook delivery")

    events = {e.type: e for e in client.v1.events.list().data}
    assert set(events) == {"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"}
    assert events["charge.succeeded"].pending_webhooks == 0
    assert _attempts(http, events["charge.succeeded"].id) == []
    assert _attempts(http, events["payment_intent.created"].id) == []
    wait_until(
        lambda: (
            client.v1.events.retrieve(events["payment_intent.succeeded"].id).pending_webhooks == 0
        ),
        "pending_webhooks to drop once delivered",
    )


def test_failed_delivery_is_retried_until_it_succeeds(
    client: stripe.StripeClient, http: httpx.Client, receiver, wait_until
) -> None:
    receiver.statuses.extend([500])
    endpoint = _endpoint(client, receiver.url, ["payment_intent.created"])

    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    event = client.v1.events.list(params={"type": "payment_intent.created"}).data[0]
    attempts = wait_until(
        lambda: (
            [a for a in _attempts(http, event.id) if a["succeeded"]] and _attempts(http, event.id)
        ),
        "a successful retry",
    )

    assert [(a["attempt"], a["status_code"], a["succeeded"]) for a in attempts] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert all(a["url"] == receiver.url and a["endpoint_id"] == endpoint.id for a in attempts)
    bodies = receiver.received()
    assert len(bodies) == 2
    for delivery in bodies:
        verified = stripe.Webhook.construct_event(
            delivery.body, delivery.headers["Stripe-Signature"], endpoint.secret
        )
        assert verified.id == event.id
        assert verified.data.object.id == intent.id
    assert client.v1.events.retrieve(event.id).pending_webhooks == 0


def test_connection_errors_are_recorded_and_retried(
    client: stripe.StripeClient, http: httpx.Client, wait_until
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = _endpoint(client, f"http://127.0.0.1:{port}/hooks", ["payment_intent.created"])

    client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    event = client.v1.events.list(params={"limit": 1}).data[0]
    attempts = wait_until(
        lambda: len(_attempts(http, event.id)) >= 2 and _attempts(http, event.id),
        "two failed attempts",
    )
    client.v1.webhook_endpoints.delete(endpoint.id)

    assert [a["attempt"] for a in attempts[:2]] == [1, 2]
    assert all(a["status_code"] is None and a["error"] for a in attempts)
    assert client.v1.events.retrieve(event.id).pending_webhooks == 1


def test_resend_delivers_the_same_event_again(
    client: stripe.StripeClient, http: httpx.Client, receiver, wait_until
) -> None:
    endpoint = _endpoint(client, receiver.url, ["payment_intent.canceled"])
    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    client.v1.payment_intents.cancel(intent.id)
    wait_until(lambda: len(receiver.received()) == 1, "the first delivery")
    event = client.v1.events.list(params={"type": "payment_intent.canceled"}).data[0]

    answer = http.post(f"/_sandbox/events/{event.id}/resend")
    deliveries = wait_until(lambda: len(receiver.received()) == 2 and receiver.received(), "resend")

    assert answer.json() == {"event_id": event.id, "endpoints": [endpoint.id]}
    ids = [
        stripe.Webhook.construct_event(d.body, d.headers["Stripe-Signature"], endpoint.secret).id
        for d in deliveries
    ]
    assert ids == [event.id, event.id]
    # The receiver sees a delivery before the sandbox has its answer and records the attempt.
    attempts = wait_until(
        lambda: len(_attempts(http, event.id)) == 2 and _attempts(http, event.id),
        "the resend's attempt record",
    )
    triggers = [a["trigger"] for a in attempts]
    assert triggers == ["event", "resend"]
    assert http.post("/_sandbox/events/evt_missing/resend").status_code == 404


def test_events_api_lists_newest_first_with_type_filter_and_limit(
    client: stripe.StripeClient,
) -> None:
    intent = _paid_intent(client)

    newest = client.v1.events.list(params={"limit": 2})
    succeeded = client.v1.events.list(params={"type": "payment_intent.*"})
    one = client.v1.events.retrieve(newest.data[0].id)

    assert [e.type for e in newest.data] == ["payment_intent.succeeded", "charge.succeeded"]
    assert newest.has_more is True
    assert [e.type for e in succeeded.data] == [
        "payment_intent.succeeded",
        "payment_intent.created",
    ]
    assert one.data.object.id == intent.id
    assert one.request.id.startswith("req_")
    created_snapshot = succeeded.data[1].data.object
    assert created_snapshot.status == "requires_confirmation"


def test_startup_endpoints_receive_every_event_and_survive_reset(receiver, wait_until) -> None:
    secret = "whsec_startup_secret"
    app = create_app(
        webhook_retry=RetryPolicy(base_delay_s=0.05, max_attempts=3),
        endpoints=[(receiver.url, secret)],
    )
    with BackgroundServer(app) as server:
        client = stripe.StripeClient(
            "sk_test_x", base_addresses={"api": server.base_url}, max_network_retries=0
        )
        listed = client.v1.webhook_endpoints.list().data
        httpx.post(f"{server.base_url}/_sandbox/reset").raise_for_status()
        after_reset = client.v1.webhook_endpoints.list().data
        client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
        delivery = wait_until(lambda: receiver.received(), "a delivery")[0]

    assert [ep.url for ep in listed] == [receiver.url]
    assert [ep.id for ep in after_reset] == [listed[0].id]
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], secret
    )
    assert event.type == "payment_intent.created"


def test_disabled_endpoint_gets_nothing(client: stripe.StripeClient, receiver) -> None:
    endpoint = _endpoint(client, receiver.url, ["*"])
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})

    client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})

    assert client.v1.webhook_endpoints.retrieve(endpoint.id).status == "disabled"
    assert client.v1.events.list().data[0].pending_webhooks == 0
