"""PayPalWebhookVerifier: PayPal's scheme, every rejection, the cert URL and whose hosts count."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from eventpay.ports import ProviderName, WebhookRejected
from eventpay.providers.paypal_certs import (
    PAYPAL_LIVE_CERT_HOSTS,
    PAYPAL_SANDBOX_CERT_HOSTS,
    cert_hosts_for,
    is_allowed_cert_url,
)
from eventpay.providers.paypal_webhook import PayPalWebhookVerifier

from .signing import certificate_pem, ec_pem, paypal_signature, rsa_key, valid_pem

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
WEBHOOK_ID = "8PT597110X687430LKGECATA"
CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
BODY = json.dumps(
    {
        "id": "WH-2WR32451HC0233532-67976317FL4543714",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource": {"id": "3C679366HH908993F"},
    }
).encode()


class CertServer:
    """Serves certificates by URL through `httpx.MockTransport` and records every request."""

    def __init__(self) -> None:
        self.pems: dict[str, bytes] = {CERT_URL: valid_pem(NOW)}
        self.seen: list[str] = []
        self.answer: Callable[[httpx.Request], httpx.Response] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        if self.answer is not None:
            return self.answer(request)
        pem = self.pems.get(str(request.url))
        return httpx.Response(200, content=pem) if pem else httpx.Response(404)


@pytest.fixture
def certs() -> CertServer:
    return CertServer()


@pytest.fixture
def http(certs: CertServer) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(certs)) as client:
        yield client


@pytest.fixture
def verifier(http: httpx.Client) -> PayPalWebhookVerifier:
    return PayPalWebhookVerifier(
        webhook_id=WEBHOOK_ID, allowed_cert_hosts=PAYPAL_LIVE_CERT_HOSTS, http=http
    )


def headers(
    body: bytes = BODY,
    *,
    sent_at: datetime = NOW - timedelta(seconds=5),
    webhook_id: str = WEBHOOK_ID,
    cert_url: str = CERT_URL,
    key_name: str = "paypal",
) -> dict[str, str]:
    transmission_id = "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
    transmission_time = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": paypal_signature(
            rsa_key(key_name), transmission_id, transmission_time, webhook_id, body
        ),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


def rejected(verifier: PayPalWebhookVerifier, body: bytes, sent: dict[str, str]) -> str:
    with pytest.raises(WebhookRejected) as refused:
        verifier.verify(body, sent, now=NOW)
    return refused.value.code


def test_a_genuine_delivery_is_verified(verifier: PayPalWebhookVerifier) -> None:
    verified = verifier.verify(BODY, headers(), now=NOW)
    assert verified.provider is ProviderName.PAYPAL
    assert verified.event_id == "WH-2WR32451HC0233532-67976317FL4543714"
    assert verified.type == "PAYMENT.CAPTURE.COMPLETED"
    assert verified.payload["resource"] == {"id": "3C679366HH908993F"}


def test_header_names_are_case_insensitive(verifier: PayPalWebhookVerifier) -> None:
    lowered = {name.lower(): value for name, value in headers().items()}
    mixed = {name.title(): value for name, value in headers().items()}
    assert verifier.verify(BODY, lowered, now=NOW).event_id
    assert verifier.verify(BODY, mixed, now=NOW).event_id


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ],
)
def test_a_missing_or_empty_header_is_a_missing_signature(
    verifier: PayPalWebhookVerifier, certs: CertServer, header: str
) -> None:
    without = {k: v for k, v in headers().items() if k != header}
    assert rejected(verifier, BODY, without) == "missing_signature"
    assert rejected(verifier, BODY, {**headers(), header: " "}) == "missing_signature"
    assert certs.seen == []


def test_only_sha256_with_rsa_is_accepted(verifier: PayPalWebhookVerifier) -> None:
    sent = {**headers(), "PAYPAL-AUTH-ALGO": "SHA1withRSA"}
    assert rejected(verifier, BODY, sent) == "unsupported_algorithm"


DISALLOWED = [
    "http://api.paypal.com/v1/notifications/certs/CERT-1",  # not https
    "https://evil.example/v1/notifications/certs/CERT-1",
    "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
    "https://evilapi.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1",
    "https://user:pw@api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
    "https://api.paypal.com/v1/oauth2/token",  # PayPal's host, not its certificate path
    "https://api.paypal.com/v1/notifications/certs/../../oauth2/token",
    "https://api.paypal.com/v1/notifications/certs/CERT-1?redirect=https://evil.example",
    "https://api.paypal.com/v1/notifications/certs/CERT-1#x",
    "http://127.0.0.1:8123/v1/notifications/certs/CERT-1",  # sandbox host not allow-listed
    "file:///etc/passwd",
    "//api.paypal.com/v1/notifications/certs/CERT-1",
    "not a url",
]


@pytest.mark.parametrize("url", DISALLOWED)
def test_a_certificate_url_not_on_paypals_hosts_is_never_fetched(
    verifier: PayPalWebhookVerifier, certs: CertServer, url: str
) -> None:
    assert rejected(verifier, BODY, headers(cert_url=url)) == "cert_url_not_allowed"
    assert certs.seen == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.paypal.com/v1/notifications/certs/CERT-1", True),
        ("https://API.PayPal.com/v1/notifications/certs/CERT-1", True),
        ("https://api-m.sandbox.paypal.com:443/v1/notifications/certs/CERT-1", True),
        ("http://127.0.0.1:8123/v1/notifications/certs/CERT-1", True),
        ("http://localhost:8123/v1/notifications/certs/CERT-1", True),
        ("http://127.0.0.1:8124/v1/notifications/certs/CERT-1", False),  # another port
        ("http://127.0.0.1/v1/notifications/certs/CERT-1", False),
        ("http://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", False),
    ],
)
def test_the_local_sandbox_may_use_http_only_when_listed_with_its_port(
    url: str, allowed: bool
) -> None:
    hosts = (
        *PAYPAL_LIVE_CERT_HOSTS,
        *PAYPAL_SANDBOX_CERT_HOSTS,
        "127.0.0.1:8123",
        "localhost:8123",
    )
    assert is_allowed_cert_url(url, hosts) is allowed


def test_a_loopback_entry_without_port_never_allows_plain_http() -> None:
    url = "http://127.0.0.1:8123/v1/notifications/certs/CERT-1"
    assert is_allowed_cert_url(url, ("127.0.0.1",)) is False


SANDBOX_CERT_URLS = [
    "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
    "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1",
]
LIVE_CERT_URLS = [
    "https://api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api-m.paypal.com/v1/notifications/certs/CERT-1",
]
EMULATOR_CERT_URL = "http://127.0.0.1:12112/v1/notifications/certs/CERT-1"


def allowed_by(hosts: tuple[str, ...], urls: list[str]) -> list[bool]:
    return [is_allowed_cert_url(url, hosts) for url in urls]


@pytest.mark.parametrize(
    "api_base", ["https://api-m.paypal.com", "https://api.paypal.com/", " https://API-M.PayPal.com"]
)
def test_production_with_live_paypal_trusts_only_the_live_hosts(api_base: str) -> None:
    hosts = cert_hosts_for(api_base, production=True)
    assert hosts == PAYPAL_LIVE_CERT_HOSTS
    assert allowed_by(hosts, LIVE_CERT_URLS) == [True, True]
    assert allowed_by(hosts, [*SANDBOX_CERT_URLS, EMULATOR_CERT_URL]) == [False, False, False]


@pytest.mark.parametrize(
    "api_base",
    [
        "https://api-m.sandbox.paypal.com",
        "http://127.0.0.1:12112",
        "http://api-m.paypal.com",  # PayPal's host, not over https
        "https://api-m.paypal.com:8443",
        "https://api-m.paypal.com.evil.example",
        "",
    ],
)
def test_production_refuses_to_trust_anything_but_live_paypal(api_base: str) -> None:
    with pytest.raises(ValueError, match="production"):
        cert_hosts_for(api_base, production=True)


def test_paypals_sandbox_outside_production_trusts_only_the_sandbox_hosts() -> None:
    hosts = cert_hosts_for("https://api-m.sandbox.paypal.com", production=False)
    assert hosts == PAYPAL_SANDBOX_CERT_HOSTS
    assert allowed_by(hosts, SANDBOX_CERT_URLS) == [True, True]
    assert allowed_by(hosts, [*LIVE_CERT_URLS, EMULATOR_CERT_URL]) == [False, False, False]


def test_live_paypal_outside_production_trusts_the_live_hosts() -> None:
    assert cert_hosts_for("https://api-m.paypal.com", production=False) == PAYPAL_LIVE_CERT_HOSTS


def test_the_emulator_outside_production_is_trusted_at_exactly_its_host_and_port() -> None:
    hosts = cert_hosts_for("http://127.0.0.1:12112", production=False)
    assert hosts == ("127.0.0.1:12112",)
    assert is_allowed_cert_url(EMULATOR_CERT_URL, hosts)
    other_port = "http://127.0.0.1:12113/v1/notifications/certs/CERT-1"
    assert allowed_by(hosts, [other_port, *LIVE_CERT_URLS, *SANDBOX_CERT_URLS]) == [False] * 5


def test_an_api_base_without_a_host_trusts_nothing() -> None:
    with pytest.raises(ValueError, match="no host"):
        cert_hosts_for("not a url", production=False)


@pytest.mark.parametrize("url", [*SANDBOX_CERT_URLS, EMULATOR_CERT_URL])
def test_by_default_the_verifier_trusts_only_live_paypal(
    http: httpx.Client, certs: CertServer, url: str
) -> None:
    verifier = PayPalWebhookVerifier(webhook_id=WEBHOOK_ID, http=http)
    assert rejected(verifier, BODY, headers(cert_url=url)) == "cert_url_not_allowed"
    assert certs.seen == []


@pytest.mark.parametrize("offset_s", [-301, 301, -86400])
def test_a_transmission_outside_the_tolerance_is_stale(
    verifier: PayPalWebhookVerifier, certs: CertServer, offset_s: int
) -> None:
    sent = headers(sent_at=NOW + timedelta(seconds=offset_s))
    assert rejected(verifier, BODY, sent) == "stale_timestamp"
    assert certs.seen == []


def test_a_transmission_inside_the_tolerance_passes(verifier: PayPalWebhookVerifier) -> None:
    for offset_s in (-299, 299):
        sent = headers(sent_at=NOW + timedelta(seconds=offset_s))
        assert verifier.verify(BODY, sent, now=NOW).event_id


def test_a_transmission_time_that_is_no_time_is_refused(verifier: PayPalWebhookVerifier) -> None:
    sent = {**headers(), "PAYPAL-TRANSMISSION-TIME": "yesterday"}
    assert rejected(verifier, BODY, sent) == "malformed_signature"


def test_the_clock_given_to_the_verifier_is_used_when_verify_gets_none(http: httpx.Client) -> None:
    verifier = PayPalWebhookVerifier(webhook_id=WEBHOOK_ID, http=http, now=lambda: NOW)
    assert verifier.verify(BODY, headers()).event_id
    late = PayPalWebhookVerifier(
        webhook_id=WEBHOOK_ID, http=http, now=lambda: NOW + timedelta(hours=1)
    )
    with pytest.raises(WebhookRejected) as refused:
        late.verify(BODY, headers())
    assert refused.value.code == "stale_timestamp"


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: httpx.Response(404),
        lambda request: httpx.Response(503),
        lambda request: httpx.Response(302, headers={"location": "https://evil.example/cert"}),
    ],
)
def test_a_certificate_that_cannot_be_fetched_is_unavailable(
    verifier: PayPalWebhookVerifier,
    certs: CertServer,
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    certs.answer = answer
    assert rejected(verifier, BODY, headers()) == "cert_unavailable"
    assert certs.seen == [CERT_URL]  # a redirect is not followed


def test_a_network_failure_makes_the_certificate_unavailable(
    verifier: PayPalWebhookVerifier, certs: CertServer
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("unreachable")

    certs.answer = fail
    assert rejected(verifier, BODY, headers()) == "cert_unavailable"


@pytest.mark.parametrize(
    "pem",
    [
        b"this is not a certificate",
        certificate_pem(  # expired yesterday
            rsa_key(), not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1)
        ),
        certificate_pem(  # not valid until tomorrow
            rsa_key(), not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=400)
        ),
        ec_pem(NOW),  # not an RSA key
        valid_pem(NOW) + b"\n" * 70_000,  # far larger than any certificate
    ],
    ids=["not-pem", "expired", "not-yet-valid", "ec-key", "too-large"],
)
def test_an_unusable_certificate_is_invalid(
    verifier: PayPalWebhookVerifier, certs: CertServer, pem: bytes
) -> None:
    certs.pems[CERT_URL] = pem
    assert rejected(verifier, BODY, headers()) == "cert_invalid"


def test_a_tampered_body_does_not_match(verifier: PayPalWebhookVerifier) -> None:
    tampered = BODY.replace(b"3C679366HH908993F", b"3C679366HH908993G")
    assert rejected(verifier, tampered, headers()) == "signature_mismatch"


def test_a_delivery_signed_for_another_webhook_does_not_match(
    verifier: PayPalWebhookVerifier,
) -> None:
    assert rejected(verifier, BODY, headers(webhook_id="WH0THERWEBHOOK")) == "signature_mismatch"


def test_a_signature_by_another_key_does_not_match(verifier: PayPalWebhookVerifier) -> None:
    assert rejected(verifier, BODY, headers(key_name="attacker")) == "signature_mismatch"


def test_a_signature_that_is_not_base64_does_not_match(verifier: PayPalWebhookVerifier) -> None:
    sent = {**headers(), "PAYPAL-TRANSMISSION-SIG": "%%%not-base64%%%"}
    assert rejected(verifier, BODY, sent) == "signature_mismatch"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["an", "array"]',
        b'{"event_type": "PAYMENT.CAPTURE.COMPLETED"}',
        b'{"id": "WH-1"}',
        b'{"id": 42, "event_type": "PAYMENT.CAPTURE.COMPLETED"}',
    ],
)
def test_a_genuinely_signed_body_that_is_no_event_is_malformed(
    verifier: PayPalWebhookVerifier, body: bytes
) -> None:
    assert rejected(verifier, body, headers(body)) == "malformed_body"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (BODY.replace(b"PAYMENT.CAPTURE.COMPLETED", b"PAYMENT\\ud800"), "body_not_storable"),
        (BODY.replace(b'"resource"', b'"res\\u0000ource"'), "body_not_storable"),
        (BODY[:-1] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "body_too_deep"),
        (BODY.decode().encode("utf-16"), "body_not_utf8"),
        (BODY.replace(b"3C679366HH908993F", b"\xe9"), "body_not_utf8"),
    ],
)
def test_a_genuinely_signed_body_that_cannot_be_stored_safely_is_refused(
    verifier: PayPalWebhookVerifier, body: bytes, code: str
) -> None:
    assert rejected(verifier, body, headers(body)) == code


def test_certificates_are_fetched_once_per_url(
    verifier: PayPalWebhookVerifier, certs: CertServer
) -> None:
    for _ in range(3):
        verifier.verify(BODY, headers(), now=NOW)
    assert certs.seen == [CERT_URL]


def test_an_expired_cached_certificate_is_fetched_again(
    verifier: PayPalWebhookVerifier, certs: CertServer
) -> None:
    certs.pems[CERT_URL] = certificate_pem(
        rsa_key(), not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(hours=1)
    )
    verifier.verify(BODY, headers(), now=NOW)
    later = NOW + timedelta(hours=2)
    certs.pems[CERT_URL] = valid_pem(later)
    assert verifier.verify(BODY, headers(sent_at=later), now=later).event_id
    assert certs.seen == [CERT_URL, CERT_URL]


def test_the_certificate_cache_is_bounded(
    verifier: PayPalWebhookVerifier, certs: CertServer
) -> None:
    urls = [f"{CERT_URL}-{n}" for n in range(40)]
    for url in urls:
        certs.pems[url] = certs.pems[CERT_URL]
        verifier.verify(BODY, headers(cert_url=url), now=NOW)
    verifier.verify(BODY, headers(cert_url=urls[0]), now=NOW)  # evicted long ago
    verifier.verify(BODY, headers(cert_url=urls[-1]), now=NOW)  # still cached
    assert certs.seen.count(urls[0]) == 2
    assert certs.seen.count(urls[-1]) == 1
