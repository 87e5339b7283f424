"""PayPal webhook verification, self-contained, written from PayPal's documented scheme.

PayPal signs `"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(raw body)}"` (the
CRC-32 as an unsigned decimal) with RSA PKCS#1 v1.5 and SHA-256, and names the certificate to
verify with in `PAYPAL-CERT-URL`. Our webhook id is part of the message, so an event signed for
another PayPal webhook fails like a tampered body does. The checks run cheapest first and
nothing is fetched before the headers, the algorithm, the certificate URL and the timestamp
have passed:

    missing_signature      a PAYPAL-* header is missing or empty
    unsupported_algorithm  PAYPAL-AUTH-ALGO is not SHA256withRSA
    cert_url_not_allowed   not PayPal's certificate path on an allowed host (paypal_certs)
    malformed_signature    PAYPAL-TRANSMISSION-TIME is not a timestamp
    stale_timestamp        transmission time further than the tolerance from now
    cert_unavailable       the certificate could not be fetched
    cert_invalid           not PEM X.509 with an RSA key, or not valid now
    signature_mismatch     the signature does not verify (tampered body, wrong webhook id)
    body_not_utf8, body_too_deep, body_not_storable
                           the body cannot be parsed or stored safely (`webhook_body`)
    malformed_body         not a JSON object with string `id` and `event_type`

Only the code and a safe sentence leave this module, never a signature or a certificate.
`PayPalPostbackVerifier` (paypal_webhook_postback) asks PayPal's API instead.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from eventpay.ports import ProviderName, VerifiedWebhook, WebhookRejected
from eventpay.providers.paypal_certs import PAYPAL_LIVE_CERT_HOSTS, CertificateStore
from eventpay.providers.webhook_body import parse_json_object

__all__ = [
    "PayPalWebhookVerifier",
    "SignedHeaders",
    "parse_event_body",
    "signed_message",
]

ALGORITHM = "SHA256withRSA"
_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)


def signed_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """The exact bytes PayPal signs for one delivery."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


class SignedHeaders:
    """The five PAYPAL-* headers of a delivery, found case-insensitively."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [name for name in _HEADERS if not lowered.get(name, "").strip()]
        if missing:
            raise WebhookRejected("missing_signature", f"header {missing[0].upper()} is missing")
        self.transmission_id = lowered["paypal-transmission-id"].strip()
        self.transmission_time = lowered["paypal-transmission-time"].strip()
        self.signature = lowered["paypal-transmission-sig"].strip()
        self.cert_url = lowered["paypal-cert-url"].strip()
        self.algorithm = lowered["paypal-auth-algo"].strip()

    def sent_at(self) -> datetime:
        try:
            sent = datetime.fromisoformat(self.transmission_time)
        except ValueError:
            raise WebhookRejected(
                "malformed_signature", "PAYPAL-TRANSMISSION-TIME is not a timestamp"
            ) from None
        return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PayPalWebhookVerifier:
    provider = ProviderName.PAYPAL

    def __init__(
        self,
        *,
        webhook_id: str,
        allowed_cert_hosts: Sequence[str] = PAYPAL_LIVE_CERT_HOSTS,
        http: httpx.Client | None = None,
        tolerance_s: int = 300,
        now: Callable[[], datetime] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not webhook_id:
            raise ValueError("the PayPal webhook id is required")
        self._webhook_id = webhook_id
        self._tolerance_s = tolerance_s
        self._clock = now or (lambda: datetime.now(UTC))
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(follow_redirects=False)
        self._certs = CertificateStore(
            allowed_hosts=allowed_cert_hosts, http=self._http, timeout_s=timeout_s
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> VerifiedWebhook:
        """The verified event, or `WebhookRejected` with the first failed check's code."""
        moment = _aware(now if now is not None else self._clock())
        signed = SignedHeaders(headers)
        if signed.algorithm != ALGORITHM:
            raise WebhookRejected("unsupported_algorithm", "only SHA256withRSA is accepted")
        self._certs.check_url(signed.cert_url)
        age = (moment - signed.sent_at()).total_seconds()
        if abs(age) > self._tolerance_s:
            raise WebhookRejected("stale_timestamp", "transmission time is outside the tolerance")
        key = self._certs.public_key(signed.cert_url, now=moment)
        try:
            signature = base64.b64decode(signed.signature, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected("signature_mismatch", "the signature is not base64") from None
        message = signed_message(
            signed.transmission_id, signed.transmission_time, self._webhook_id, body
        )
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise WebhookRejected(
                "signature_mismatch", "the signature does not match this webhook"
            ) from None
        return parse_event_body(body)


def parse_event_body(body: bytes) -> VerifiedWebhook:
    """The event in a body, parsed defensively (`webhook_body`); needs `id` and `event_type`."""
    payload = parse_json_object(body)
    event_id = payload.get("id")
    event_type = payload.get("event_type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
        raise WebhookRejected("malformed_body", "event id is missing or malformed")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 255:
        raise WebhookRejected("malformed_body", "event type is missing")
    return VerifiedWebhook(
        provider=ProviderName.PAYPAL, event_id=event_id, type=event_type, payload=payload
    )
