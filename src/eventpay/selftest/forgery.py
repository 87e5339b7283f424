"""What a forger of PayPal webhooks can make: a key of its own, a capture event, signed headers.

The forger knows everything public: the PayPal order id, its amount and the attempt id
PayPal copies onto captures (`custom_id`), the webhook id, PayPal's signing scheme
(RSA PKCS#1 v1.5, SHA-256 over `"{transmission id}|{time}|{webhook id}|{crc32(body)}"`) and
any certificate URL. What it lacks is PayPal's private key, so it signs with one it generated
(`ForgerKey`, with a self-signed certificate it could serve). The scheme is written here
again, independently of the service's verifier, like the sandbox's own signer. No HTTP here.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

Json = dict[str, Any]

AUTH_ALGO = "SHA256withRSA"
COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
CERT_PATH = "/v1/notifications/certs/"


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ForgerKey:
    """An RSA key and a self-signed certificate that look like PayPal's, made on the spot."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls) -> ForgerKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # The name PayPal's real certificates carry: only the key gives a forgery away.
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def signed_headers(self, body: bytes, *, webhook_id: str, cert_url: str) -> dict[str, str]:
        """The five PAYPAL-* headers of a fresh transmission of `body`, signed with this key."""
        transmission_id = str(uuid.uuid4())
        transmission_time = _timestamp(datetime.now(UTC))
        crc = zlib.crc32(body) & 0xFFFFFFFF
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()
        signature = self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode("ascii"),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
        }


def _paypal_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(17))


def capture_completed(paypal_order: Json, *, paypal_base: str) -> bytes:
    """A `PAYMENT.CAPTURE.COMPLETED` event for the whole amount of an (uncaptured) order."""
    unit = (paypal_order.get("purchase_units") or [{}])[0]
    amount = unit.get("amount") or {}
    order_id = str(paypal_order.get("id"))
    capture_id = _paypal_id()
    now = _timestamp(datetime.now(UTC))
    capture: Json = {
        "id": capture_id,
        "status": "COMPLETED",
        "amount": {"currency_code": amount.get("currency_code"), "value": amount.get("value")},
        "final_capture": True,
        "seller_protection": {"status": "ELIGIBLE"},
        "supplementary_data": {"related_ids": {"order_id": order_id}},
        "create_time": now,
        "update_time": now,
        "links": [
            {
                "href": f"{paypal_base}/v2/payments/captures/{capture_id}",
                "rel": "self",
                "method": "GET",
            },
            {"href": f"{paypal_base}/v2/checkout/orders/{order_id}", "rel": "up", "method": "GET"},
        ],
    }
    for key in ("custom_id", "invoice_id"):
        if key in unit:
            capture[key] = unit[key]
    event = {
        "id": f"WH-{_paypal_id()}-{_paypal_id()}",
        "event_version": "1.0",
        "create_time": now,
        "resource_type": "capture",
        "resource_version": "2.0",
        "event_type": COMPLETED,
        "summary": f"Payment completed for {amount.get('value')} {amount.get('currency_code')}",
        "resource": capture,
        "links": [],
    }
    return json.dumps(event, separators=(",", ":")).encode()
