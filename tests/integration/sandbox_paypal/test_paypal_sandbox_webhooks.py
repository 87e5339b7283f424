"""Webhooks: deliveries signed like PayPal's, verified here independently with `cryptography`;
retries, the postback verification route, the events API, subscriptions and resends."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from support.paypal_openapi import validate_request, validate_response, validate_schema

WEBHOOK_ID = "8PT597110X687430LKGECATA"
NOTIFICATIONS = "notifications_webhooks_v1"
VERIFY = "/v1/notifications/verify-webhook-signature"


def _verify_independently(delivery, webhook_id: str = WEBHOOK_ID) -> x509.Certificate:
    """PayPal's documented check, written from scratch: fetch the cert, rebuild, verify."""
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert headers["paypal-auth-algo"] == "SHA256withRSA"
    pem = httpx.get(headers["paypal-cert-url"]).raise_for_status().content
    certificate = x509.load_pem_x509_certificate(pem)
    now = datetime.now(UTC)
    assert certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
    crc = zlib.crc32(delivery.body) & 0xFFFFFFFF
    transmission = f"{headers['paypal-transmission-id']}|{headers['paypal-transmission-time']}"
    message = f"{transmission}|{webhook_id}|{crc}"
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    signature = base64.b64decode(headers["paypal-transmission-sig"])
    public_key.verify(signature, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return certificate


def _capture_and_wait(paypal, receiver, wait_until, count: int = 3) -> list[Any]:
    paypal.paid_capture()
    received: list[Any] = wait_until(
        lambda: len(receiver.received()) >= count and receiver.received(), f"{count} deliveries"
    )
    return received


def test_delivery_is_signed_like_paypal(paypal, receiver, wait_until) -> None:
    deliveries = _capture_and_wait(paypal, receiver, wait_until, count=2)
    completed = next(d for d in deliveries if b"PAYMENT.CAPTURE.COMPLETED" in d.body)

    certificate = _verify_independently(completed)

    event = json.loads(completed.body)
    validate_schema(NOTIFICATIONS, "event", event)
    validate_schema("payments_payment_v2", "capture-2", event["resource"])
    assert event["id"].startswith("WH-")
    assert event["event_version"] == "1.0"
    assert event["resource_type"] == "capture"
    assert event["resource_version"] == "2.0"
    assert event["resource"]["status"] == "COMPLETED"
    assert {link["rel"] for link in event["links"]} == {"self", "resend"}
    assert completed.headers["content-type"] == "application/json"
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "messageverificationcerts.sandbox.local"
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime == timedelta(days=31)
    with pytest.raises(InvalidSignature):
        _verify_independently(completed, webhook_id="SOMEONEELSE")


def test_failed_delivery_is_retried_with_a_new_transmission(paypal, receiver, wait_until) -> None:
    receiver.statuses.extend([500])
    order = paypal.create_order()
    paypal.approve(order["id"])

    first, second = wait_until(
        lambda: len(receiver.received()) >= 2 and receiver.received(), "a retry"
    )
    # The receiver answers before the sandbox records the attempt: wait for the record too.
    attempts = wait_until(
        lambda: (
            data
            if len(data := paypal.http.get("/_sandbox/deliveries").json()["data"]) >= 2
            else None
        ),
        "the second attempt recorded",
    )

    assert first.body == second.body
    assert first.headers["paypal-transmission-id"] != second.headers["paypal-transmission-id"]
    _verify_independently(second)
    assert [(a["attempt"], a["status_code"], a["succeeded"]) for a in attempts] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert attempts[0]["webhook_id"] == WEBHOOK_ID


def _postback(delivery, event: dict[str, Any], webhook_id: str = WEBHOOK_ID) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    return {
        "auth_algo": headers["paypal-auth-algo"],
        "cert_url": headers["paypal-cert-url"],
        "transmission_id": headers["paypal-transmission-id"],
        "transmission_sig": headers["paypal-transmission-sig"],
        "transmission_time": headers["paypal-transmission-time"],
        "webhook_id": webhook_id,
        "webhook_event": event,
    }


def test_verify_webhook_signature_postback(paypal, receiver, wait_until) -> None:
    delivery = _capture_and_wait(paypal, receiver, wait_until, count=1)[0]
    event = json.loads(delivery.body)
    tampered = {**event, "summary": "Payment completed for 1000000.00 USD"}

    genuine = _postback(delivery, event)
    validate_request(NOTIFICATIONS, VERIFY, "POST", genuine)
    results = [
        paypal.post(VERIFY, json=body)
        for body in (
            genuine,
            _postback(delivery, tampered),
            _postback(delivery, event, "OTHERHOOK"),
        )
    ]

    for response in results:
        assert response.status_code == 200
        validate_response(NOTIFICATIONS, VERIFY, "POST", 200, response.json())
    assert [r.json()["verification_status"] for r in results] == ["SUCCESS", "FAILURE", "FAILURE"]
    incomplete = paypal.post(VERIFY, json={"auth_algo": "SHA256withRSA"})
    assert incomplete.status_code == 400
    validate_response(NOTIFICATIONS, VERIFY, "POST", 400, incomplete.json())


def test_events_can_be_listed_shown_and_resent(paypal, receiver, wait_until) -> None:
    order = paypal.create_order()
    paypal.approve(order["id"])
    wait_until(lambda: receiver.received(), "the approval delivery")
    event_id = paypal.events("CHECKOUT.ORDER.APPROVED")[0]["id"]

    listed = paypal.get("/v1/notifications/webhooks-events")
    shown = paypal.get(f"/v1/notifications/webhooks-events/{event_id}")
    resent = paypal.post(f"/v1/notifications/webhooks-events/{event_id}/resend", json={})
    controlled = paypal.http.post(f"/_sandbox/events/{event_id}/resend", json={})

    validate_response(NOTIFICATIONS, "/v1/notifications/webhooks-events", "GET", 200, listed.json())
    assert [e["id"] for e in listed.json()["events"]] == [event_id]
    validate_response(
        NOTIFICATIONS, "/v1/notifications/webhooks-events/{event_id}", "GET", 200, shown.json()
    )
    assert resent.status_code == 202
    validate_response(
        NOTIFICATIONS,
        "/v1/notifications/webhooks-events/{event_id}/resend",
        "POST",
        202,
        resent.json(),
    )
    assert controlled.json() == {"event_id": event_id, "webhook_ids": [WEBHOOK_ID]}
    copies = wait_until(
        lambda: len(receiver.received()) >= 3 and receiver.received(), "two resends"
    )
    assert len({d.body for d in copies}) == 1
    triggers = [a["trigger"] for a in paypal.http.get("/_sandbox/deliveries").json()["data"]]
    assert triggers == ["event", "resend", "resend"]
    assert paypal.get("/v1/notifications/webhooks-events/WH-NOPE").status_code == 404


def test_webhooks_created_through_the_api_get_their_own_signature(
    paypal, receiver, wait_until
) -> None:
    body = {
        "url": f"{receiver.url}?via=api",
        "event_types": [{"name": "PAYMENT.CAPTURE.COMPLETED"}],
    }
    validate_request(NOTIFICATIONS, "/v1/notifications/webhooks", "POST", body)

    created = paypal.post("/v1/notifications/webhooks", json=body)
    _capture_and_wait(paypal, receiver, wait_until, count=3)
    listed = paypal.get("/v1/notifications/webhooks").json()

    assert created.status_code == 201
    validate_response(NOTIFICATIONS, "/v1/notifications/webhooks", "POST", 201, created.json())
    validate_response(NOTIFICATIONS, "/v1/notifications/webhooks", "GET", 200, listed)
    assert {w["id"] for w in listed["webhooks"]} == {WEBHOOK_ID, created.json()["id"]}
    via_api = [d for d in receiver.received() if d.path.endswith("?via=api")]
    assert len(via_api) == 1
    _verify_independently(via_api[0], webhook_id=created.json()["id"])
    deleted = paypal.http.delete(
        f"/v1/notifications/webhooks/{created.json()['id']}", headers=paypal.auth
    )
    assert deleted.status_code == 204
    bad = paypal.post(
        "/v1/notifications/webhooks", json={"url": receiver.url, "event_types": [{"name": "NOPE"}]}
    )
    assert bad.status_code == 400


def test_certificate_is_served_only_under_its_name(paypal, receiver, wait_until) -> None:
    delivery = _capture_and_wait(paypal, receiver, wait_until, count=1)[0]
    cert_url = delivery.headers["paypal-cert-url"]

    served = httpx.get(cert_url)
    other = httpx.get(cert_url.rsplit("/", 1)[0] + "/CERT-0000")

    assert "/v1/notifications/certs/CERT-" in cert_url
    assert cert_url.startswith(str(paypal.http.base_url).rstrip("/"))
    assert served.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert other.status_code == 404


RESOURCE_SCHEMAS = {
    "checkout-order": ("checkout_orders_v2", "order"),
    "capture": ("payments_payment_v2", "capture-2"),
    "refund": ("payments_payment_v2", "refund"),
    "payouts": ("payments_payouts_batch_v1", "payout_batch"),
    "payouts_item": ("payments_payouts_batch_v1", "payout_item-2"),
    "dispute": ("customer_disputes_v1", "dispute"),
    "invoices": ("invoicing_v2", "invoice"),
}


def test_every_event_resource_has_its_apis_shape(paypal) -> None:
    capture = paypal.paid_capture()
    paypal.post(f"/v2/payments/captures/{capture['id']}/refund", json={})
    dispute = paypal.http.post("/_sandbox/disputes", json={"capture_id": capture["id"]}).json()
    paypal.post(f"/v1/customer/disputes/{dispute['dispute_id']}/accept-claim", json={})
    item = {
        "name": "Booth",
        "quantity": "1",
        "unit_amount": {"currency_code": "USD", "value": "9.00"},
    }
    invoice = paypal.post(
        "/v2/invoicing/invoices", json={"detail": {"currency_code": "USD"}, "items": [item]}
    ).json()
    paypal.post(f"/v2/invoicing/invoices/{invoice['id']}/send", json={})
    paypal.http.post(f"/_sandbox/invoices/{invoice['id']}/pay")
    payout = {
        "sender_batch_header": {"sender_batch_id": "events-1"},
        "items": [
            {
                "recipient_type": "PAYPAL_ID",
                "receiver": "QYR5Z8XDVJNXQ",
                "amount": {"value": "5.00", "currency": "USD"},
            }
        ],
    }
    batch_id = paypal.post("/v1/payments/payouts", json=payout).json()["batch_header"]
    paypal.http.post(f"/_sandbox/payouts/{batch_id['payout_batch_id']}/process")

    events = paypal.events()

    assert {e["resource_type"] for e in events} == set(RESOURCE_SCHEMAS)
    for event in events:
        validate_schema(NOTIFICATIONS, "event", event)
        spec_name, component = RESOURCE_SCHEMAS[event["resource_type"]]
        validate_schema(spec_name, component, event["resource"])
