"""Currencies as Stripe counts them: JPY, ISK, KWD and EUR amounts, refused ones, how they show.

The old sandbox took any three letters and any amount (`amount=550, currency=isk` or
`amount=1235, currency=kwd` succeeded), and wrote amounts for people as raw integers
("1230 kwd (minor units)" on the 3-D Secure page, "12.30 KWD" in refund errors).
"""

from __future__ import annotations

import httpx
import pytest
import stripe

ACCEPTED = [("jpy", 4500), ("isk", 500), ("kwd", 1230), ("eur", 4550)]


def _create(client: stripe.StripeClient, currency: str, amount: int, **more: object) -> object:
    params = {"amount": amount, "currency": currency, **more}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


@pytest.mark.parametrize(("currency", "amount"), ACCEPTED)
def test_amounts_stripe_takes_are_charged_and_refunded_in_part(
    client: stripe.StripeClient, currency: str, amount: int
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    # Half of each amount, still a valid step (ISK 200 = 2 kr, KWD 610 = 0.610 KWD).
    half = {"jpy": 2250, "isk": 200, "kwd": 610, "eur": 2275}[currency]
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": half})

    assert (intent.status, intent.amount_received, intent.currency) == (
        "succeeded",
        amount,
        currency,
    )
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", half, currency)


@pytest.mark.parametrize(
    ("currency", "amount", "code", "words"),
    [
        ("isk", 550, "invalid_charge_amount_no_decimal_compatible", "evenly divisible by 100"),
        ("ugx", 1, "invalid_charge_amount_no_decimal_compatible", "evenly divisible by 100"),
        ("kwd", 1235, None, "must have 0 as their last digit"),
        ("jpy", 100_000_000, "amount_too_large", "Amount must be no more than 99,999,999 JPY"),
        ("usd", 100_000_000, "amount_too_large", "Amount must be no more than $999,999.99"),
    ],
)
def test_amounts_stripe_cannot_take_get_its_error(
    client: stripe.StripeClient, currency: str, amount: int, code: str | None, words: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _create(client, currency, amount)

    error = caught.value
    assert error.http_status == 400
    assert error.json_body is not None
    assert error.json_body["error"]["type"] == "invalid_request_error"
    assert error.json_body["error"].get("code") == code
    assert error.json_body["error"]["param"] == "amount"
    assert words in str(error.user_message)
    assert client.v1.payment_intents.list().data == []


def test_a_currency_stripe_does_not_take_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _create(client, "iqd", 1000)

    assert caught.value.param == "currency"
    assert str(caught.value.user_message).startswith("Invalid currency: iqd.")


def test_changing_the_currency_checks_the_amount_again(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1235, "currency": "eur"})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.update(intent.id, params={"currency": "kwd"})

    assert caught.value.param == "amount"
    assert client.v1.payment_intents.retrieve(intent.id).currency == "eur"


@pytest.mark.parametrize(("currency", "amount", "step"), [("isk", 500, 250), ("kwd", 1230, 15)])
def test_refunds_follow_the_same_steps(
    client: stripe.StripeClient, currency: str, amount: int, step: int
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": step})

    assert caught.value.param == "amount"
    assert client.v1.refunds.list().data == []


def test_refund_errors_write_three_decimal_amounts_with_three_decimals(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1230,
            "currency": "kwd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2000})

    assert caught.value.code == "amount_too_large"
    assert "(2.000 KWD) is greater than unrefunded amount on charge (1.230 KWD)" in str(
        caught.value.user_message
    )


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("kwd", 1230, "1.230 KWD"),
        ("jpy", 4500, "4,500 JPY"),
        ("isk", 500, "5.00 ISK"),
        ("eur", 4550, "45.50 EUR"),
    ],
)
def test_the_challenge_page_shows_the_amount_for_people(
    client: stripe.StripeClient, http: httpx.Client, currency: str, amount: int, shown: str
) -> None:
    intent = _create(
        client, currency, amount, payment_method="pm_card_authenticationRequired", confirm=True
    )

    page = http.get(f"/sandbox/3ds/{intent.id}")  # type: ignore[attr-defined]

    assert f"<strong id='amount'>{shown}</strong>" in page.text
