"""Stripe webhook signature verification, written from Stripe's documented scheme.

Header `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`; the signed payload is
`"{t}.{raw body}"`, HMAC-SHA256 with the endpoint secret. Any matching `v1` under any configured
secret passes (that is how secret rotation works). The raw bytes are verified before anything
parses them, and then parsed defensively (`webhook_body`: UTF-8, bounded depth, storable
text). Only the safe reason code leaves this module, never a secret or signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from eventpay.ports import ProviderName, VerifiedWebhook, WebhookRejected
from eventpay.providers.webhook_body import parse_json_object

SIGNATURE_HEADER = "stripe-signature"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookRejected(
                    "malformed_signature", "timestamp is not an integer"
                ) from None
        elif key == "v1":
            signatures.append(value.strip().lower())
    if timestamp is None:
        raise WebhookRejected("malformed_signature", "signature header has no timestamp")
    if not signatures:
        raise WebhookRejected("no_v1_signature", "signature header has no v1 signature")
    return timestamp, signatures


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send; used by the benchmark and self-test to forge nothing."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeWebhookVerifier:
    provider = ProviderName.STRIPE

    def __init__(self, secrets: Sequence[str], *, tolerance_s: int = 300) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is required")
        self._secrets = [s.encode() for s in secrets]
        self._tolerance_s = tolerance_s

    def verify(self, body: bytes, headers: Mapping[str, str], *, now: datetime) -> VerifiedWebhook:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise WebhookRejected("missing_signature", "Stripe-Signature header is missing")
        timestamp, signatures = _parse_header(header)
        signed = f"{timestamp}.".encode() + body
        expected = [hmac.new(s, signed, hashlib.sha256).hexdigest() for s in self._secrets]
        # Compare against every candidate without early exit so timing reveals nothing.
        matched = False
        for candidate in signatures:
            for digest in expected:
                matched |= hmac.compare_digest(candidate, digest)
        if not matched:
            raise WebhookRejected("signature_mismatch", "no signature matches a configured secret")
        age = now.timestamp() - timestamp
        if abs(age) > self._tolerance_s:
            raise WebhookRejected("stale_timestamp", "signature timestamp is outside the tolerance")
        return _parse_event(body)


def _parse_event(body: bytes) -> VerifiedWebhook:
    payload = parse_json_object(body)
    event_id = payload.get("id")
    event_type = payload.get("type")
    if not isinstance(event_id, str) or not event_id.startswith("evt_") or len(event_id) > 255:
        raise WebhookRejected("malformed_body", "event id is missing or malformed")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 255:
        raise WebhookRejected("malformed_body", "event type is missing")
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookRejected("malformed_body", "event has no data.object")
    return VerifiedWebhook(
        provider=ProviderName.STRIPE, event_id=event_id, type=event_type, payload=payload
    )
