"""Refunds through the real stripe SDK: amounts and the cap, errors, idempotency, events, shapes.

A refund changes the charge (`amount_refunded`, `refunded`, `refunds`), never the PaymentIntent.
`pm_card_pendingRefund` and `pm_card_refundFail` refunds change later on their own (the session
sandbox's default `refund_delay_s`); tests wait for that with `wait_until`, never with sleeps.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

FAILURE_KEYS = {"failure_balance_transaction", "failure_reason"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return load_examples()


def _paid(
    client: stripe.StripeClient, payment_method: str = "pm_card_visa", amount: int = 4500
) -> stripe.PaymentIntent:
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": payment_method,
            "confirm": True,
        }
    )
    assert intent.status == "succeeded"
    return intent


def _refund(client: stripe.StripeClient, **params: Any) -> stripe.Refund:
    return client.v1.refunds.create(params=params)  # type: ignore[arg-type]


def _refused(client: stripe.StripeClient, **params: Any) -> dict[str, Any]:
    """The error body of a refund creation that must fail with a 400."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _refund(client, **params)
    assert caught.value.http_status == 400
    assert caught.value.json_body is not None
    error: dict[str, Any] = caught.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    return error


def _charge(client: stripe.StripeClient, intent: stripe.PaymentIntent) -> stripe.Charge:
    return client.v1.charges.retrieve(str(intent.latest_charge))


def _events(client: stripe.StripeClient, *types: str) -> list[stripe.Event]:
    """Events of the given types (patterns allowed), newest first."""
    return list(client.v1.events.list(params={"types": list(types), "limit": 100}).data)


# Amounts and the cap


def test_full_refund_by_payment_intent_refunds_the_charge(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    before = client.v1.payment_intents.retrieve(intent.id).to_dict()

    refund = _refund(client, payment_intent=intent.id)
    charge = _charge(client, intent)

    assert refund.id.startswith("re_")
    assert refund.status == "succeeded"
    assert refund.amount == 4500
    assert refund.currency == "usd"
    assert refund.charge == intent.latest_charge
    assert refund.payment_intent == intent.id
    assert refund.reason is None
    assert charge.amount_refunded == 4500
    assert charge.refunded is True
    assert [r.to_dict() for r in charge.refunds.data] == [refund.to_dict()]
    assert client.v1.payment_intents.retrieve(intent.id).to_dict() == before


def test_partial_refund_leaves_the_charge_partly_refunded(client: stripe.StripeClient) -> None:
    intent = _paid(client)

    refund = _refund(
        client,
        payment_intent=intent.id,
        amount=1000,
        reason="requested_by_customer",
        metadata={"refund_id": "r-1"},
    )
    charge = _charge(client, intent)

    assert refund.amount == 1000
    assert refund.reason == "requested_by_customer"
    assert refund.metadata.to_dict() == {"refund_id": "r-1"}
    assert charge.amount_refunded == 1000
    assert charge.refunded is False
    assert charge.amount == 4500


def test_refunds_add_up_to_the_charge_amount_and_no_further(client: stripe.StripeClient) -> None:
    intent = _paid(client)

    first = _refund(client, payment_intent=intent.id, amount=3000)
    rest = _refund(client, payment_intent=intent.id)
    error = _refused(client, payment_intent=intent.id, amount=1)
    charge = _charge(client, intent)

    assert rest.amount == 1500
    assert charge.amount_refunded == 4500
    assert charge.refunded is True
    assert [r.id for r in charge.refunds.data] == [rest.id, first.id]
    assert error["code"] == "charge_already_refunded"
    assert error["message"] == f"Charge {charge.id} has already been refunded."
    assert len(client.v1.refunds.list(params={"payment_intent": intent.id}).data) == 2


def test_amount_over_what_is_left_is_amount_too_large(client: stripe.StripeClient) -> None:
    intent = _paid(client)

    over_the_charge = _refused(client, payment_intent=intent.id, amount=4501)
    _refund(client, payment_intent=intent.id, amount=3000)
    over_the_rest = _refused(client, payment_intent=intent.id, amount=2000)
    after_refusals = _charge(client, intent).amount_refunded
    exact = _refund(client, payment_intent=intent.id, amount=1500)

    assert over_the_charge["code"] == over_the_rest["code"] == "amount_too_large"
    assert over_the_rest["param"] == "amount"
    assert over_the_rest["message"] == (
        "Refund amount ($20.00) is greater than unrefunded amount on charge ($15.00)"
    )
    assert after_refusals == 3000
    assert exact.amount == 1500
    assert _charge(client, intent).refunded is True


@pytest.mark.parametrize("amount", [0, -100])
def test_amount_must_be_positive(client: stripe.StripeClient, amount: int) -> None:
    intent = _paid(client)

    error = _refused(client, payment_intent=intent.id, amount=amount)

    assert error["code"] == "parameter_invalid_integer"
    assert error["param"] == "amount"
    assert _charge(client, intent).amount_refunded == 0
    assert client.v1.refunds.list().data == []


# What cannot be refunded, and bad parameters


def _unpaid_intent(client: stripe.StripeClient, state: str) -> str:
    base: dict[str, Any] = {"amount": 4500, "currency": "usd"}
    if state == "requires_payment_method":
        return str(client.v1.payment_intents.create(params=base).id)
    if state == "requires_confirmation":
        params = {**base, "payment_method": "pm_card_visa"}
        return str(client.v1.payment_intents.create(params=params).id)
    if state == "requires_action":
        params = {**base, "payment_method": "pm_card_authenticationRequired", "confirm": True}
        return str(client.v1.payment_intents.create(params=params).id)
    if state == "canceled":
        created = client.v1.payment_intents.create(params=base)
        return str(client.v1.payment_intents.cancel(created.id).id)
    params = {**base, "payment_method": "pm_card_chargeDeclined", "confirm": True}
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(params=params)
    assert caught.value.json_body is not None
    return str(caught.value.json_body["error"]["payment_intent"]["id"])


@pytest.mark.parametrize(
    "state",
    ["requires_payment_method", "requires_confirmation", "requires_action", "canceled", "declined"],
)
def test_intent_without_a_successful_charge_is_not_refundable(
    client: stripe.StripeClient, state: str
) -> None:
    pi_id = _unpaid_intent(client, state)

    error = _refused(client, payment_intent=pi_id)

    assert error["code"] == "charge_not_refundable"
    assert error["param"] == "payment_intent"
    assert error["message"] == (
        f"This PaymentIntent ({pi_id}) does not have a successful charge to refund."
    )
    assert client.v1.refunds.list().data == []
    assert _events(client, "refund.*", "charge.refunded") == []


def test_failed_charge_is_not_refundable(client: stripe.StripeClient) -> None:
    pi_id = _unpaid_intent(client, "declined")
    charge = client.v1.charges.list(params={"payment_intent": pi_id}).data[0]

    error = _refused(client, charge=charge.id)

    assert charge.status == "failed"
    assert error["code"] == "charge_not_refundable"
    assert error["param"] == "charge"


def test_refund_by_charge_names_its_payment_intent(client: stripe.StripeClient) -> None:
    intent = _paid(client)

    refund = _refund(client, charge=str(intent.latest_charge), amount=500)

    assert refund.charge == intent.latest_charge
    assert refund.payment_intent == intent.id
    assert _charge(client, intent).amount_refunded == 500


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({}, "parameter_missing", None),
        ({"payment_intent": "PI", "charge": "CH"}, "parameters_exclusive", None),
        ({"payment_intent": "pi_missing000000000000000"}, "resource_missing", "payment_intent"),
        ({"charge": "ch_missing000000000000000"}, "resource_missing", "charge"),
        ({"payment_intent": "PI", "reason": "changed_mind"}, None, "reason"),
        ({"payment_intent": "PI", "colour": "red"}, "parameter_unknown", "colour"),
    ],
)
def test_bad_parameters_are_refused(
    client: stripe.StripeClient,
    params: dict[str, str],
    code: str | None,
    param: str | None,
) -> None:
    intent = _paid(client)
    filled = {
        k: {"PI": intent.id, "CH": str(intent.latest_charge)}.get(v, v) for k, v in params.items()
    }

    with pytest.raises(stripe.InvalidRequestError) as caught:
        _refund(client, **filled)

    assert caught.value.http_status == 400
    assert caught.value.code == code
    assert caught.value.param == param
    assert _charge(client, intent).amount_refunded == 0


# Retrieve, list, update, cancel


def test_retrieve_and_list_with_filters(client: stripe.StripeClient) -> None:
    one, two = _paid(client), _paid(client)
    first = _refund(client, payment_intent=one.id, amount=100)
    second = _refund(client, payment_intent=two.id, amount=200)
    third = _refund(client, payment_intent=one.id, amount=300)

    everything = client.v1.refunds.list()
    of_one = client.v1.refunds.list(params={"payment_intent": one.id})
    of_two_charge = client.v1.refunds.list(params={"charge": str(two.latest_charge)})
    newest = client.v1.refunds.list(params={"limit": 1})
    older = client.v1.refunds.list(params={"starting_after": third.id})

    assert [r.id for r in everything.data] == [third.id, second.id, first.id]
    assert [r.id for r in of_one.data] == [third.id, first.id]
    assert [r.id for r in of_two_charge.data] == [second.id]
    assert [r.id for r in newest.data] == [third.id]
    assert newest.has_more is True
    assert [r.id for r in older.data] == [second.id, first.id]
    assert client.v1.refunds.retrieve(second.id).to_dict() == second.to_dict()


def test_retrieve_unknown_refund_is_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.retrieve("re_missing000000000000000")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_retrieve_expands_charge_and_payment_intent(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    refund = _refund(client, payment_intent=intent.id, amount=700)

    expanded = client.v1.refunds.retrieve(
        refund.id, params={"expand": ["charge", "payment_intent"]}
    )

    assert expanded.charge.id == intent.latest_charge
    assert expanded.charge.amount_refunded == 700
    assert expanded.payment_intent.id == intent.id


def test_update_merges_metadata_and_emits_refund_updated(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    refund = _refund(client, payment_intent=intent.id, metadata={"a": "1"})

    merged = client.v1.refunds.update(refund.id, params={"metadata": {"b": "2"}})
    unset = client.v1.refunds.update(refund.id, params={"metadata": {"a": ""}})
    unchanged = client.v1.refunds.update(refund.id, params={"metadata": {"b": "2"}})

    assert merged.metadata.to_dict() == {"a": "1", "b": "2"}
    assert unset.metadata.to_dict() == {"b": "2"}
    assert unchanged.to_dict() == unset.to_dict()
    assert _charge(client, intent).refunds.data[0].metadata.to_dict() == {"b": "2"}
    updates = _events(client, "refund.updated")
    assert [e.data.previous_attributes.to_dict() for e in updates] == [
        {"metadata": {"a": "1", "b": "2"}},
        {"metadata": {"a": "1"}},
    ]
    assert updates[0].data.object.metadata.to_dict() == {"b": "2"}


def test_cancel_is_refused_because_card_refunds_never_wait(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    refund = _refund(client, payment_intent=intent.id)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.cancel(refund.id)

    assert caught.value.http_status == 400
    assert "has a status of succeeded" in str(caught.value.user_message)
    assert "requires_action" in str(caught.value.user_message)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert _charge(client, intent).amount_refunded == 4500


# Idempotency


def _replayed(obj: stripe.StripeObject) -> str | None:
    assert obj.last_response is not None
    return obj.last_response.headers.get("Idempotent-Replayed")


def test_same_key_replays_the_refund_without_refunding_again(client: stripe.StripeClient) -> None:
    intent = _paid(client)
    params: dict[str, Any] = {"payment_intent": intent.id, "amount": 1000}

    first = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})
    again = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})

    assert again.to_dict() == first.to_dict()
    assert _replayed(again) == "true"
    assert _replayed(first) is None
    assert _charge(client, intent).amount_refunded == 1000
    assert len(client.v1.refunds.list().data) == 1
    created = _events(client, "refund.created")
    assert [e.request.idempotency_key for e in created] == ["refund-1"]


def test_same_key_with_another_amount_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    intent = _paid(client)
    options: Any = {"idempotency_key": "refund-2"}
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000}, options=options)

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.refunds.create(
            params={"payment_intent": intent.id, "amount": 2000}, options=options
        )

    assert caught.value.http_status == 400
    assert _charge(client, intent).amount_refunded == 1000


def test_refused_amount_is_replayed_but_a_parameter_error_is_not_kept(
    client: stripe.StripeClient,
) -> None:
    intent = _paid(client)
    too_much: dict[str, Any] = {"payment_intent": intent.id, "amount": 5000}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.refunds.create(params=too_much, options={"idempotency_key": "refund-3"})
        errors.append(caught.value)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(
            params={"payment_intent": intent.id, "amount": 0},
            options={"idempotency_key": "refund-4"},
        )
    valid = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 100},
        options={"idempotency_key": "refund-4"},
    )

    assert errors[0].code == errors[1].code == "amount_too_large"
    assert errors[1].headers is not None
    assert errors[1].headers.get("Idempotent-Replayed") == "true"
    assert valid.amount == 100
    assert _replayed(valid) is None


def test_concurrent_duplicate_refund_gets_409_while_the_first_runs(
    client: stripe.StripeClient, http: httpx.Client, wait_until
) -> None:
    intent = _paid(client)
    params: dict[str, Any] = {"payment_intent": intent.id, "amount": 1000}
    http.post(
        "/_sandbox/faults",
        json={"path_prefix": "/v1/refunds", "method": "POST", "mode": "delay", "delay_s": 0.8},
    ).raise_for_status()
    results: list[stripe.Refund] = []
    first = threading.Thread(
        target=lambda: results.append(
            client.v1.refunds.create(params=params, options={"idempotency_key": "refund-5"})
        )
    )
    first.start()
    wait_until(
        lambda: http.get("/_sandbox/idempotency").json()["in_flight"] == 1,
        "the first refund to hold its idempotency key",
    )

    with pytest.raises(stripe.APIError) as caught:
        client.v1.refunds.create(params=params, options={"idempotency_key": "refund-5"})
    first.join(timeout=10)

    assert caught.value.http_status == 409
    assert caught.value.json_body is not None
    assert caught.value.json_body["error"]["code"] == "idempotency_key_in_use"
    assert len(results) == 1
    assert [r.id for r in client.v1.refunds.list().data] == [results[0].id]
    assert _charge(client, intent).amount_refunded == 1000


# Events


def test_refund_emits_charge_refunded_and_refund_created_and_delivers_them(
    client: stripe.StripeClient, receiver, wait_until
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["charge.refunded", "refund.created"]}
    )
    intent = _paid(client)

    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1000},
        options={"idempotency_key": "refund-events"},
    )
    deliveries = wait_until(lambda: len(receiver.received()) == 2 and receiver.received(), "two")
    events = _events(client, "refund.*", "charge.refund*")

    assert [e.type for e in events] == ["refund.created", "charge.refunded"]
    created, refunded = events
    assert created.data.object.to_dict() == refund.to_dict()
    assert refunded.data.object.id == intent.latest_charge
    assert refunded.data.object.amount_refunded == 1000
    assert refunded.data.object.refunds.data[0].id == refund.id
    assert {e.request.idempotency_key for e in events} == {"refund-events"}
    verified = [
        stripe.Webhook.construct_event(d.body, d.headers["Stripe-Signature"], endpoint.secret)
        for d in deliveries
    ]
    assert sorted(e.type for e in verified) == ["charge.refunded", "refund.created"]


def test_refund_fail_card_refund_succeeds_then_fails(
    client: stripe.StripeClient, wait_until
) -> None:
    intent = _paid(client, "pm_card_refundFail")

    refund = _refund(client, payment_intent=intent.id)
    failed = wait_until(
        lambda: (found := client.v1.refunds.retrieve(refund.id)).status == "failed" and found,
        "the refund to fail",
    )
    charge = _charge(client, intent)
    events = _events(client, "refund.*", "charge.refund*")

    assert refund.status == "succeeded"
    assert failed.failure_reason == "expired_or_canceled_card"
    assert failed.failure_balance_transaction.startswith("txn_")
    assert charge.amount_refunded == 0
    assert charge.refunded is False
    assert charge.refunds.data[0].status == "failed"
    assert [e.type for e in events] == [
        "charge.refund.updated",
        "refund.failed",
        "refund.updated",
        "refund.created",
        "charge.refunded",
    ]
    at_refund = events[-1].data.object
    assert (at_refund.amount_refunded, at_refund.refunded) == (4500, True)
    later = events[:3]
    assert all(e.request.id is None for e in later)
    assert all(e.data.object.status == "failed" for e in later)
    assert events[2].data.previous_attributes.to_dict() == {"status": "succeeded"}
    # The money came back, so the charge can be refunded again.
    assert _refund(client, payment_intent=intent.id).amount == 4500


def test_pending_refund_card_refund_starts_pending_then_succeeds(
    client: stripe.StripeClient, wait_until
) -> None:
    intent = _paid(client, "pm_card_pendingRefund")

    refund = _refund(client, payment_intent=intent.id, amount=4000)
    settled = wait_until(
        lambda: (found := client.v1.refunds.retrieve(refund.id)).status == "succeeded" and found,
        "the refund to succeed",
    )
    events = _events(client, "refund.*", "charge.refund*")

    assert refund.status == "pending"
    assert refund.destination_details.card.type == "pending"
    assert settled.destination_details.card.type == "refund"
    assert _charge(client, intent).amount_refunded == 4000
    assert [e.type for e in events] == [
        "charge.refund.updated",
        "refund.updated",
        "refund.created",
        "charge.refunded",
    ]
    assert events[-1].data.object.amount_refunded == 4000
    assert events[1].data.previous_attributes.status == "pending"
    # A pending refund already counts against what is left.
    assert _refused(client, payment_intent=intent.id, amount=501)["code"] == "amount_too_large"


# Shapes


def test_refunds_have_stripes_keys(
    client: stripe.StripeClient, examples: dict[str, Any], wait_until
) -> None:
    succeeded = _refund(client, payment_intent=_paid(client).id, amount=100)
    pending = _refund(client, payment_intent=_paid(client, "pm_card_pendingRefund").id)
    failing = _refund(client, payment_intent=_paid(client, "pm_card_refundFail").id)
    failed = wait_until(
        lambda: (found := client.v1.refunds.retrieve(failing.id)).status == "failed" and found,
        "the refund to fail",
    ).to_dict()
    listed = [r.to_dict() for r in client.v1.refunds.list().data]
    fresh = [succeeded.to_dict(), pending.to_dict(), failing.to_dict()]

    example = examples["refund"]
    assert {r["status"] for r in fresh} == {"succeeded", "pending"}
    assert all(set(r) == set(example) for r in fresh)
    # Stripe adds the failure fields only to a failed (or canceled) refund.
    assert set(failed) == set(example) | FAILURE_KEYS
    assert all(set(r) in (set(example), set(example) | FAILURE_KEYS) for r in listed)
    problems = [
        problem
        for refund in [*fresh, *listed, failed]
        for problem in shape_problems(
            {k: v for k, v in refund.items() if k not in FAILURE_KEYS},
            example,
            refund["id"],
            examples,
        )
    ]
    assert problems == []
    assert isinstance(failed["failure_reason"], str)


def test_refunded_charges_and_refund_events_keep_stripes_keys(
    client: stripe.StripeClient, examples: dict[str, Any]
) -> None:
    intent = _paid(client)
    refund = _refund(client, payment_intent=intent.id, amount=100, metadata={"k": "v"})
    client.v1.refunds.update(refund.id, params={"metadata": {"k": "w"}})

    charge = _charge(client, intent).to_dict()
    events = [e.to_dict() for e in _events(client, "refund.*", "charge.refund*")]

    assert set(charge) == set(examples["charge"])
    assert shape_problems(charge, examples["charge"], "charge", examples) == []
    assert {e["type"] for e in events} == {"charge.refunded", "refund.created", "refund.updated"}
    problems = [
        problem
        for event in events
        for problem in shape_problems(event, examples["event"], event["type"], examples)
    ]
    assert problems == []
