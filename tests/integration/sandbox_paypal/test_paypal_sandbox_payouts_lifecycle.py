"""Payouts item lifecycle: the receiver picks SUCCESS, UNCLAIMED, RETURNED, FAILED or BLOCKED;
unclaimed items are returned or claimed later; batch status and signed webhooks follow."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from support.paypal_openapi import validate_request, validate_response, validate_schema

PAYOUTS = "payments_payouts_batch_v1"
NOTIFICATIONS = "notifications_webhooks_v1"
CREATE = "/v1/payments/payouts"
BATCH = "/v1/payments/payouts/{id}"
ITEM = "/v1/payments/payouts-item/{payout_item_id}"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
RECEIVERS = (
    "organizer@example.com",
    "unclaimed@example.com",
    "returned@example.com",
    "Failed+Org7@Example.com",
    "blocked@example.com",
)


def _batch(sender_batch_id: str, *receivers: str) -> dict[str, Any]:
    return {
        "sender_batch_header": {"sender_batch_id": sender_batch_id, "email_subject": "Payout"},
        "items": [
            {
                "recipient_type": "EMAIL",
                "receiver": receiver,
                "amount": {"value": "20.00", "currency": "USD"},
                "sender_item_id": f"item-{index}",
            }
            for index, receiver in enumerate(receivers)
        ],
    }


def _processed(paypal, sender_batch_id: str, *receivers: str) -> dict[str, Any]:
    body = _batch(sender_batch_id, *receivers)
    validate_request(PAYOUTS, CREATE, "POST", body)
    created = paypal.post(CREATE, json=body)
    assert created.status_code == 201, created.text
    batch_id = created.json()["batch_header"]["payout_batch_id"]
    processed = paypal.http.post(f"/_sandbox/payouts/{batch_id}/process")
    assert processed.status_code == 200, processed.text
    shown = paypal.get(f"/v1/payments/payouts/{batch_id}")
    validate_response(PAYOUTS, BATCH, "GET", 200, shown.json())
    batch: dict[str, Any] = shown.json()
    return batch


def _items(batch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["payout_item"]["receiver"]: item for item in batch["items"]}


def _item(paypal, item_id: str) -> dict[str, Any]:
    shown = paypal.get(f"/v1/payments/payouts-item/{item_id}")
    assert shown.status_code == 200, shown.text
    validate_response(PAYOUTS, ITEM, "GET", 200, shown.json())
    item: dict[str, Any] = shown.json()
    return item


def test_each_receiver_chooses_its_items_outcome(paypal) -> None:
    batch = _processed(paypal, "life-1", *RECEIVERS)

    items = _items(batch)
    statuses = {receiver: item["transaction_status"] for receiver, item in items.items()}
    assert statuses == dict(
        zip(RECEIVERS, ("SUCCESS", "UNCLAIMED", "RETURNED", "FAILED", "BLOCKED"), strict=True)
    )
    reasons = {r: i.get("errors", {}).get("name") for r, i in items.items()}
    assert reasons == dict(
        zip(
            RECEIVERS,
            (
                None,
                "RECEIVER_UNREGISTERED",
                "RECEIVER_REFUSED",
                "RECEIVER_ACCOUNT_LOCKED",
                "REGULATORY_BLOCKED",
            ),
            strict=True,
        )
    )
    # Money moved for the first three only: the others never left the account.
    with_transaction = {r for r, i in items.items() if "transaction_id" in i}
    assert with_transaction == set(RECEIVERS[:3])
    assert batch["batch_header"]["batch_status"] == "SUCCESS"
    for item in items.values():
        shown = _item(paypal, item["payout_item_id"])
        assert shown["transaction_status"] == item["transaction_status"]
        assert shown["sender_batch_id"] == "life-1"
    types = [e["event_type"] for e in reversed(paypal.events())]
    assert types == [
        "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
        "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
        "PAYMENT.PAYOUTS-ITEM.RETURNED",
        "PAYMENT.PAYOUTS-ITEM.FAILED",
        "PAYMENT.PAYOUTS-ITEM.BLOCKED",
        "PAYMENT.PAYOUTSBATCH.SUCCESS",
    ]
    for event in paypal.events():
        validate_schema(NOTIFICATIONS, "event", event)
        component = "payout_batch" if event["resource_type"] == "payouts" else "payout_item-2"
        validate_schema(PAYOUTS, component, event["resource"])


def test_a_batch_nobody_could_be_paid_from_is_denied(paypal) -> None:
    batch = _processed(paypal, "life-2", "failed@example.com", "blocked+x@example.com")

    assert batch["batch_header"]["batch_status"] == "DENIED"
    denied = paypal.events("PAYMENT.PAYOUTSBATCH.DENIED")
    assert len(denied) == 1
    assert denied[0]["resource"]["batch_header"]["batch_status"] == "DENIED"
    validate_schema(PAYOUTS, "payout_batch", denied[0]["resource"])
    assert paypal.events("PAYMENT.PAYOUTSBATCH.SUCCESS") == []


def test_an_unclaimed_item_is_returned_on_request_keeping_its_reason(paypal) -> None:
    batch = _processed(paypal, "life-3", "unclaimed@example.com")
    item_id = batch["items"][0]["payout_item_id"]

    returned = paypal.http.post(f"/_sandbox/payouts-item/{item_id}/return")
    again = paypal.http.post(f"/_sandbox/payouts-item/{item_id}/return")

    assert returned.status_code == 200, returned.text
    assert returned.json()["transaction_status"] == "RETURNED"
    shown = _item(paypal, item_id)
    assert shown["transaction_status"] == "RETURNED"
    assert shown["errors"]["name"] == "RECEIVER_UNREGISTERED"
    event = paypal.events("PAYMENT.PAYOUTS-ITEM.RETURNED")
    assert [e["resource"]["payout_item_id"] for e in event] == [item_id]
    assert again.status_code == 422
    assert again.json()["details"][0]["issue"] == "ITEM_INCORRECT_STATUS"


def test_an_unclaimed_item_can_be_claimed(paypal) -> None:
    batch = _processed(paypal, "life-4", "newcomer@unknown.example.com")
    item_id = batch["items"][0]["payout_item_id"]

    claimed = paypal.http.post(f"/_sandbox/payouts-item/{item_id}/claim")

    assert claimed.status_code == 200, claimed.text
    shown = _item(paypal, item_id)
    assert shown["transaction_status"] == "SUCCESS"
    assert "errors" not in shown
    assert len(paypal.events("PAYMENT.PAYOUTS-ITEM.SUCCEEDED")) == 1


def test_unclaimed_items_are_returned_after_the_configured_delay(paypal, wait_until) -> None:
    default = paypal.http.get("/_sandbox/payouts/return-after").json()["return_after_s"]
    configured = paypal.http.post("/_sandbox/payouts/return-after", json={"seconds": 0.05})
    refused = paypal.http.post("/_sandbox/payouts/return-after", json={"seconds": -1})
    batch = _processed(paypal, "life-5", "unclaimed+late@example.com", "paid@example.com")
    items = _items(batch)
    unclaimed = items["unclaimed+late@example.com"]["payout_item_id"]

    def returned() -> bool:
        return _item(paypal, unclaimed)["transaction_status"] == "RETURNED"

    wait_until(returned, "the unclaimed item to be returned")
    assert default == 30 * 24 * 3600
    assert configured.json() == {"return_after_s": 0.05}
    assert refused.status_code == 400
    paid = items["paid@example.com"]["payout_item_id"]
    assert _item(paypal, paid)["transaction_status"] == "SUCCESS"
    paypal.http.post("/_sandbox/reset").raise_for_status()
    after_reset = paypal.http.get("/_sandbox/payouts/return-after").json()
    assert after_reset == {"return_after_s": default}


def test_a_retry_with_the_same_request_id_answers_the_same_batch(paypal) -> None:
    body = _batch("life-6", "organizer@example.com")
    headers = {"PayPal-Request-Id": "payout-life-6"}

    first = paypal.post(CREATE, json=body, headers=headers)
    again = paypal.post(CREATE, json=body, headers=headers)
    reused = paypal.post(CREATE, json=body, headers={"PayPal-Request-Id": "other"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers.get("sandbox-replayed") == "true"
    assert reused.status_code == 400
    assert reused.json()["name"] == "USER_BUSINESS_ERROR"
    original = first.json()["batch_header"]["payout_batch_id"]
    assert reused.json()["links"][0]["href"].endswith(f"/v1/payments/payouts/{original}")


def _verify(delivery) -> None:
    """PayPal's documented signature check, from scratch (not the sandbox's own code)."""
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    pem = httpx.get(headers["paypal-cert-url"]).raise_for_status().content
    key = x509.load_pem_x509_certificate(pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    crc = zlib.crc32(delivery.body) & 0xFFFFFFFF
    message = (
        f"{headers['paypal-transmission-id']}|{headers['paypal-transmission-time']}|"
        f"{WEBHOOK_ID}|{crc}"
    )
    signature = base64.b64decode(headers["paypal-transmission-sig"])
    key.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_payout_webhooks_are_delivered_signed(paypal, receiver, wait_until) -> None:
    _processed(paypal, "life-7", "failed@example.com", "returned@example.com")
    wanted = {
        "PAYMENT.PAYOUTS-ITEM.FAILED",
        "PAYMENT.PAYOUTS-ITEM.RETURNED",
        "PAYMENT.PAYOUTSBATCH.SUCCESS",
    }

    def delivered() -> list[Any]:
        found = [d for d in receiver.received() if json.loads(d.body)["event_type"] in wanted]
        return found if len(found) == len(wanted) else []

    deliveries = wait_until(delivered, "the payout webhooks")
    for delivery in deliveries:
        _verify(delivery)
        validate_schema(NOTIFICATIONS, "event", json.loads(delivery.body))
