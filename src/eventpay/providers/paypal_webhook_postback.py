"""PayPal webhook verification by postback: `POST /v1/notifications/verify-webhook-signature`.

The alternative to `PayPalWebhookVerifier` when fetching PayPal's certificate is not wanted:
PayPal itself checks the signature, through the provider's authenticated client, and answers
`verification_status` SUCCESS or FAILURE. It costs a round trip per delivery and fails closed:
when PayPal cannot be asked, the delivery is refused (`verification_unavailable`) and PayPal
delivers it again later.

The event is sent back byte for byte as it arrived, spliced into the request as JSON text:
PayPal checks its CRC over the event, so a re-serialised copy (other key order, other escapes)
would fail verification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from eventpay.ports import (
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRejected,
    VerifiedWebhook,
    WebhookRejected,
)
from eventpay.providers.paypal_http import PayPalApi, PayPalRejected
from eventpay.providers.paypal_webhook import ALGORITHM, SignedHeaders, parse_event_body

__all__ = ["VERIFY_PATH", "PayPalPostbackVerifier"]

VERIFY_PATH = "/v1/notifications/verify-webhook-signature"


class PayPalPostbackVerifier:
    provider = ProviderName.PAYPAL

    def __init__(
        self,
        *,
        api: PayPalApi,
        webhook_id: str,
        tolerance_s: int = 300,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not webhook_id:
            raise ValueError("the PayPal webhook id is required")
        self._api = api
        self._webhook_id = webhook_id
        self._tolerance_s = tolerance_s
        self._clock = now or (lambda: datetime.now(UTC))

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> VerifiedWebhook:
        moment = now if now is not None else self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        signed = SignedHeaders(headers)
        if signed.algorithm != ALGORITHM:
            raise WebhookRejected("unsupported_algorithm", "only SHA256withRSA is accepted")
        if abs((moment - signed.sent_at()).total_seconds()) > self._tolerance_s:
            raise WebhookRejected("stale_timestamp", "transmission time is outside the tolerance")
        event = parse_event_body(body)
        fields = {
            "auth_algo": signed.algorithm,
            "cert_url": signed.cert_url,
            "transmission_id": signed.transmission_id,
            "transmission_sig": signed.signature,
            "transmission_time": signed.transmission_time,
            "webhook_id": self._webhook_id,
        }
        # `{...fields..., "webhook_event": <the body exactly as received>}`
        request = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body.strip() + b"}"
        try:
            answer = self._api.call("POST", VERIFY_PATH, raw_json=request)
        except ProviderOutcomeUnknown:
            raise WebhookRejected(
                "verification_unavailable", "PayPal could not be asked to verify"
            ) from None
        except PayPalRejected as exc:
            if exc.status_code in (401, 403):
                # Our credentials, not the sender's signature: refuse so PayPal retries.
                raise WebhookRejected(
                    "verification_unavailable", "PayPal refused our verification request"
                ) from None
            raise WebhookRejected(
                "signature_mismatch", f"PayPal refused to verify ({exc.code})"
            ) from None
        except ProviderRejected as exc:
            raise WebhookRejected(
                "verification_unavailable", f"PayPal could not be asked to verify ({exc.code})"
            ) from None
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookRejected("signature_mismatch", "PayPal says the signature is not valid")
        return event
