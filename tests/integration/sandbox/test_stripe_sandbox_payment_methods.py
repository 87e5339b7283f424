"""Stripe's test payment methods: success, declines, 3-D Secure, disputes, unknown methods."""

from __future__ import annotations

import pytest
import stripe


def _event_types(client: stripe.StripeClient) -> list[str]:
    return [event.type for event in client.v1.events.list(params={"limit": 100}).data][::-1]


def test_visa_succeeds_with_a_charge(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 4500, "currency": "usd", "metadata": {"event_id": "e1"}}
    )

    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )

    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 4500
    assert isinstance(confirmed.latest_charge, str)
    assert confirmed.latest_charge.startswith("ch_")
    assert confirmed.payment_method.startswith("pm_")
    assert confirmed.payment_method != "pm_card_visa"
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert charge.status == "succeeded"
    assert charge.paid is True
    assert charge.captured is True
    assert charge.amount == 4500
    assert charge.currency == "usd"
    assert charge.payment_intent == intent.id
    assert charge.metadata.to_dict() == {"event_id": "e1"}
    assert charge.payment_method_details.card.last4 == "4242"
    assert _event_types(client) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_expand_latest_charge_embeds_the_charge(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )

    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})

    assert expanded.latest_charge.id == intent.latest_charge
    assert expanded.latest_charge.object == "charge"


@pytest.mark.parametrize(
    ("payment_method", "decline_code", "message"),
    [
        ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
    ],
)
def test_declines_are_402_card_errors_and_reset_the_intent(
    client: stripe.StripeClient, payment_method: str, decline_code: str, message: str
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": payment_method})

    error = caught.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error is not None
    assert error.error.decline_code == decline_code
    assert error.user_message == message
    assert error.json_body is not None
    assert error.json_body["error"]["payment_intent"]["id"] == intent.id
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.payment_method is None
    assert after.last_payment_error.code == "card_declined"
    assert after.last_payment_error.decline_code == decline_code
    failed = client.v1.charges.retrieve(after.latest_charge)
    assert failed.status == "failed"
    assert failed.paid is False
    assert failed.outcome.reason == decline_code
    assert _event_types(client) == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]


def test_a_declined_intent_can_be_paid_with_another_card(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )

    paid = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})

    assert paid.status == "succeeded"
    assert paid.last_payment_error is None
    charges = client.v1.charges.list(params={"payment_intent": intent.id})
    assert sorted(c.status for c in charges.data) == ["failed", "succeeded"]


def test_authentication_required_asks_for_3ds_with_redirect(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4500,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "https://shop.example/return?order=7",
        }
    )

    assert intent.status == "requires_action"
    assert intent.latest_charge is None
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == "https://shop.example/return?order=7"
    assert intent.next_action.redirect_to_url.url.endswith(f"/sandbox/3ds/{intent.id}")
    assert "payment_intent.requires_action" in _event_types(client)


def test_authentication_without_return_url_uses_stripe_sdk_action(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    pending = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_authenticationRequired"}
    )

    assert pending.status == "requires_action"
    assert pending.next_action.type == "use_stripe_sdk"
    assert pending.next_action.use_stripe_sdk.stripe_js.endswith(f"/sandbox/3ds/{intent.id}")


def test_authentication_required_off_session_is_declined(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})

    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(
            intent.id,
            params={"payment_method": "pm_card_authenticationRequired", "off_session": True},
        )

    assert caught.value.code == "authentication_required"


def test_create_dispute_card_succeeds(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "usd",
            "payment_method": "pm_card_createDispute",
            "confirm": True,
        }
    )

    assert intent.status == "succeeded"
    assert client.v1.charges.retrieve(intent.latest_charge).payment_method_details.card.last4 == (
        "0259"
    )


def test_payment_method_without_confirm_waits_for_confirmation(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd", "payment_method": "pm_card_visa"}
    )

    confirmed = client.v1.payment_intents.confirm(intent.id)

    assert intent.status == "requires_confirmation"
    assert confirmed.status == "succeeded"
    assert confirmed.payment_method == intent.payment_method


def test_confirm_without_any_payment_method_is_refused(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(intent.id)

    assert caught.value.code == "payment_intent_unexpected_state"


def test_unknown_payment_method_is_resource_missing(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_bogus"})

    assert caught.value.http_status == 400
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_confirming_a_succeeded_intent_again_is_refused(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})

    assert "already succeeded" in str(caught.value.user_message)
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 1
