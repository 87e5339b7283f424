"""The 3-D Secure challenge: page, complete, fail, redirect back to the return_url."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import stripe


def _pending(client: stripe.StripeClient, return_url: str | None = None) -> stripe.PaymentIntent:
    params: dict[str, object] = {
        "amount": 4500,
        "currency": "usd",
        "payment_method": "pm_card_authenticationRequired",
        "confirm": True,
    }
    if return_url:
        params["return_url"] = return_url
    intent = client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    assert intent.status == "requires_action"
    return intent


def test_challenge_page_offers_complete_and_fail(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = _pending(client)

    page = http.get(f"/sandbox/3ds/{intent.id}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'action="/sandbox/3ds/{intent.id}/complete"' in page.text
    assert f'action="/sandbox/3ds/{intent.id}/fail"' in page.text


def test_complete_charges_the_card(client: stripe.StripeClient, http: httpx.Client) -> None:
    intent = _pending(client)

    answer = http.post(f"/sandbox/3ds/{intent.id}/complete")

    assert answer.status_code == 200
    assert answer.json()["status"] == "succeeded"
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "succeeded"
    assert after.next_action is None
    charge = client.v1.charges.retrieve(after.latest_charge)
    assert charge.status == "succeeded"
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"
    types = [e.type for e in client.v1.events.list().data]
    assert types[:2] == ["payment_intent.succeeded", "charge.succeeded"]


def test_fail_returns_to_requires_payment_method(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = _pending(client)

    answer = http.post(f"/sandbox/3ds/{intent.id}/fail")

    assert answer.status_code == 200
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    assert after.latest_charge is None
    assert client.v1.events.list(params={"limit": 1}).data[0].type == (
        "payment_intent.payment_failed"
    )


def test_form_submission_redirects_to_return_url(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = _pending(client, return_url="https://shop.example/back?order=7")

    answer = http.post(f"/sandbox/3ds/{intent.id}/fail", data={"choice": "fail"})

    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    query = parse_qs(target.query)
    assert (target.netloc, target.path) == ("shop.example", "/back")
    assert query["order"] == ["7"]
    assert query["payment_intent"] == [intent.id]
    assert query["payment_intent_client_secret"] == [intent.client_secret]
    assert query["redirect_status"] == ["failed"]


def test_challenge_cannot_be_completed_twice(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = _pending(client)
    http.post(f"/sandbox/3ds/{intent.id}/complete").raise_for_status()

    again = http.post(f"/sandbox/3ds/{intent.id}/fail")

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 1


def test_challenge_for_unknown_intent_is_404(http: httpx.Client) -> None:
    assert http.get("/sandbox/3ds/pi_missing").status_code == 404
    assert http.post("/sandbox/3ds/pi_missing/complete").json()["error"]["code"] == (
        "resource_missing"
    )


def test_canceling_a_pending_intent_closes_the_challenge(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    intent = _pending(client)
    client.v1.payment_intents.cancel(intent.id)

    answer = http.post(f"/sandbox/3ds/{intent.id}/complete")

    assert answer.status_code == 400
    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"
