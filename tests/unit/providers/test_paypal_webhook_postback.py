"""PayPalPostbackVerifier: PayPal checks the signature; the event goes back byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from eventpay.ports import WebhookRejected
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_webhook_postback import PayPalPostbackVerifier

from .fake_paypal import FakePayPal

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
WEBHOOK_ID = "1JE4291016473214C"
# Spacing and key order as PayPal sent them: a re-serialised copy would not verify at PayPal.
BODY = b'{"id":"WH-1A2B3C","event_type":"CHECKOUT.ORDER.APPROVED",  "resource":{"id":"5O1"}}'


def headers(sent_at: datetime = NOW) -> dict[str, str]:
    return {
        "paypal-transmission-id": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "paypal-transmission-time": sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "paypal-transmission-sig": "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2rMyFrmz",
        "paypal-cert-url": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
        "paypal-auth-algo": "SHA256withRSA",
    }


@pytest.fixture
def verifier(provider: PayPalProvider) -> PayPalPostbackVerifier:
    return PayPalPostbackVerifier(api=provider.api, webhook_id=WEBHOOK_ID)


def test_paypals_success_verifies_the_event(
    fake: FakePayPal, verifier: PayPalPostbackVerifier
) -> None:
    verified = verifier.verify(BODY, headers(), now=NOW)
    assert (verified.event_id, verified.type) == ("WH-1A2B3C", "CHECKOUT.ORDER.APPROVED")
    (sent,) = fake.verify_requests
    assert sent.endswith(b'"webhook_event": ' + BODY + b"}")
    request = json.loads(sent)
    assert request["webhook_id"] == WEBHOOK_ID
    assert request["auth_algo"] == "SHA256withRSA"
    assert request["transmission_time"] == headers()["paypal-transmission-time"]


def test_paypals_failure_is_a_mismatch(fake: FakePayPal, verifier: PayPalPostbackVerifier) -> None:
    fake.verification_status = "FAILURE"
    with pytest.raises(WebhookRejected) as refused:
        verifier.verify(BODY, headers(), now=NOW)
    assert refused.value.code == "signature_mismatch"


def test_when_paypal_cannot_be_asked_the_delivery_is_refused_for_a_retry(
    fake: FakePayPal, verifier: PayPalPostbackVerifier
) -> None:
    fake.fail_next("POST", "/v1/notifications/", exception=httpx.ReadTimeout("slow"))
    with pytest.raises(WebhookRejected) as refused:
        verifier.verify(BODY, headers(), now=NOW)
    assert refused.value.code == "verification_unavailable"


def test_our_own_credentials_failing_is_not_blamed_on_the_sender(
    fake: FakePayPal, verifier: PayPalPostbackVerifier
) -> None:
    fake.fail_next("POST", "/v1/notifications/", 403, {"name": "NOT_AUTHORIZED"})
    with pytest.raises(WebhookRejected) as refused:
        verifier.verify(BODY, headers(), now=NOW)
    assert refused.value.code == "verification_unavailable"


def test_local_checks_run_before_asking_paypal(
    fake: FakePayPal, verifier: PayPalPostbackVerifier
) -> None:
    cases = {
        "missing_signature": ({**headers(), "paypal-transmission-sig": ""}, BODY),
        "unsupported_algorithm": ({**headers(), "paypal-auth-algo": "SHA1withRSA"}, BODY),
        "stale_timestamp": (headers(NOW - timedelta(minutes=10)), BODY),
        "malformed_body": (headers(), b"not json"),
        "body_too_deep": (headers(), BODY[:-1] + b',"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        "body_not_storable": (headers(), BODY.replace(b'"5O1"', b'"5O1\\udfff"')),
        "body_not_utf8": (headers(), BODY.replace(b"5O1", b"\xc0\xaf")),
    }
    for code, (sent, body) in cases.items():
        with pytest.raises(WebhookRejected) as refused:
            verifier.verify(body, sent, now=NOW)
        assert refused.value.code == code
    assert fake.verify_requests == []
