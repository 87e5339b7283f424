"""Payouts: a batch settles to SUCCESS with an UNCLAIMED item; duplicate sender_batch_id refused."""

from __future__ import annotations

from typing import Any

from support.paypal_openapi import validate_request, validate_response

PAYOUTS = "payments_payouts_batch_v1"
CREATE = "/v1/payments/payouts"


def _batch(sender_batch_id: str = "Payouts_2024_0001", *receivers: str) -> dict[str, Any]:
    chosen = receivers or ("judge@example.com", "newcomer@unknown.example.com")
    return {
        "sender_batch_header": {
            "sender_batch_id": sender_batch_id,
            "email_subject": "Your prize money",
            "email_message": "Congratulations on your result!",
        },
        "items": [
            {
                "recipient_type": "EMAIL",
                "receiver": receiver,
                "amount": {"value": f"{50 + index}.00", "currency": "USD"},
                "sender_item_id": f"prize-{index}",
                "note": "Car audio contest prize",
            }
            for index, receiver in enumerate(chosen)
        ],
    }


def _create(paypal, body: dict[str, Any]):
    validate_request(PAYOUTS, CREATE, "POST", body)
    return paypal.post(CREATE, json=body)


def test_batch_is_created_pending_then_settles(paypal) -> None:
    created = _create(paypal, _batch())
    batch_id = created.json()["batch_header"]["payout_batch_id"]

    processed = paypal.http.post(f"/_sandbox/payouts/{batch_id}/process")
    shown = paypal.get(f"/v1/payments/payouts/{batch_id}")

    assert created.status_code == 201
    validate_response(PAYOUTS, CREATE, "POST", 201, created.json())
    assert created.json()["batch_header"]["batch_status"] == "PENDING"
    assert (
        created.json()["batch_header"]["sender_batch_header"]["sender_batch_id"]
        == "Payouts_2024_0001"
    )
    assert processed.status_code == 200
    assert shown.status_code == 200
    validate_response(PAYOUTS, "/v1/payments/payouts/{id}", "GET", 200, shown.json())
    header = shown.json()["batch_header"]
    assert header["batch_status"] == "SUCCESS"
    assert header["amount"] == {"currency": "USD", "value": "101.00"}
    assert header["fees"] == {"currency": "USD", "value": "2.02"}
    items = {i["payout_item"]["receiver"]: i for i in shown.json()["items"]}
    assert items["judge@example.com"]["transaction_status"] == "SUCCESS"
    unclaimed = items["newcomer@unknown.example.com"]
    assert unclaimed["transaction_status"] == "UNCLAIMED"
    assert unclaimed["errors"]["name"] == "RECEIVER_UNREGISTERED"
    types = [e["event_type"] for e in reversed(paypal.events())]
    assert types == [
        "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
        "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
        "PAYMENT.PAYOUTSBATCH.SUCCESS",
    ]


def test_item_can_be_shown_on_its_own(paypal) -> None:
    batch_id = _create(paypal, _batch()).json()["batch_header"]["payout_batch_id"]
    item = paypal.get(f"/v1/payments/payouts/{batch_id}").json()["items"][0]

    shown = paypal.get(f"/v1/payments/payouts-item/{item['payout_item_id']}")

    assert shown.status_code == 200
    path = "/v1/payments/payouts-item/{payout_item_id}"
    validate_response(PAYOUTS, path, "GET", 200, shown.json())
    assert shown.json()["payout_batch_id"] == batch_id
    assert shown.json()["sender_batch_id"] == "Payouts_2024_0001"
    assert shown.json()["transaction_status"] == "PENDING"


def test_batch_settles_by_itself_shortly(paypal, wait_until) -> None:
    batch_id = _create(paypal, _batch("auto-1", "crew@example.com")).json()["batch_header"][
        "payout_batch_id"
    ]

    def settled() -> bool:
        status = paypal.get(f"/v1/payments/payouts/{batch_id}").json()["batch_header"][
            "batch_status"
        ]
        return status == "SUCCESS"

    wait_until(settled, "the payout batch to settle", timeout_s=5)
    assert len(paypal.events("PAYMENT.PAYOUTSBATCH.SUCCESS")) == 1


def test_reused_sender_batch_id_is_refused(paypal) -> None:
    first = _create(paypal, _batch("Payouts_2024_0002")).json()

    again = _create(paypal, _batch("Payouts_2024_0002", "someone@example.com"))

    assert again.status_code == 400
    validate_response(PAYOUTS, CREATE, "POST", 400, again.json())
    error = again.json()
    assert error["name"] == "USER_BUSINESS_ERROR"
    assert error["details"][0]["field"] == "SENDER_BATCH_ID"
    assert error["details"][0]["issue"] == "Batch with given sender_batch_id already exists"
    original = first["batch_header"]["payout_batch_id"]
    assert error["links"][0]["href"].endswith(f"/v1/payments/payouts/{original}")
    assert error["information_link"].startswith("https://developer.paypal.com/docs/api/")


def test_invalid_items_are_validation_errors(paypal) -> None:
    bad_receiver = _batch("bad-1", "not-an-email")
    mixed = _batch("bad-2")
    mixed["items"][1]["amount"]["currency"] = "EUR"

    responses = [paypal.post(CREATE, json=body) for body in (bad_receiver, mixed, {"items": []})]

    for response in responses:
        assert response.status_code == 400
        validate_response(PAYOUTS, CREATE, "POST", 400, response.json())
        assert response.json()["name"] == "VALIDATION_ERROR"
    assert responses[0].json()["details"][0]["field"] == "items[0].receiver"


def test_unknown_batch_and_item_are_not_found(paypal) -> None:
    batch = paypal.get("/v1/payments/payouts/NOSUCHBATCH")
    item = paypal.get("/v1/payments/payouts-item/NOSUCHITEM")

    assert (batch.status_code, item.status_code) == (404, 404)
    validate_response(PAYOUTS, "/v1/payments/payouts/{id}", "GET", 404, batch.json())
