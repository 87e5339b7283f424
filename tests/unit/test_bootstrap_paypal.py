"""The PayPal webhook verifier the composition root wires: whose certificates it trusts.

Each test builds the real container from settings and asks its PayPal verifier about
certificate URLs, without any network: every probe carries a transmission time from long ago.
The verifier checks the certificate URL before the timestamp and fetches nothing before both
have passed, so an allow-listed URL ends in `stale_timestamp` and any other in
`cert_url_not_allowed`. Sockets are closed for the whole module to make sure of it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from eventpay.bootstrap import build_container
from eventpay.config import Settings
from eventpay.ports import ProviderName, WebhookRejected, WebhookVerifier
from eventpay.providers import PayPalWebhookVerifier

LIVE = {
    "stripe_secret_key": "sk_live_abc",
    "stripe_publishable_key": "pk_live_abc",
    "stripe_api_base": "https://api.stripe.com",
    "jwt_key": "a-real-production-key",
    "stripe_webhook_secrets": "whsec_live_1",
    "paypal_client_id": "AbCdLiveClient",
    "paypal_client_secret": "live-secret",
    "paypal_webhook_id": "8PT597110X687430LKGECATA",
}
EMULATOR = "http://127.0.0.1:12112"
CERT = "/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
LIVE_CERTS = [f"https://api.paypal.com{CERT}", f"https://api-m.paypal.com{CERT}"]
SANDBOX_CERTS = [f"https://api.sandbox.paypal.com{CERT}", f"https://api-m.sandbox.paypal.com{CERT}"]
EMULATOR_CERT = f"{EMULATOR}{CERT}"
LOOPBACK_CERTS = [EMULATOR_CERT, f"http://localhost:12112{CERT}", f"https://127.0.0.1{CERT}"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("building or probing the PayPal wiring touched the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@contextmanager
def paypal_verifier(tmp_path: Path, **values: Any) -> Iterator[WebhookVerifier]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'eventpay.db'}", **values)
    container = build_container(settings)
    try:
        yield container.verifiers[ProviderName.PAYPAL]
    finally:
        container.close()


def trusts(verifier: WebhookVerifier, cert_url: str) -> bool:
    headers = {
        "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "PAYPAL-TRANSMISSION-TIME": "2016-02-18T20:01:35Z",
        "PAYPAL-TRANSMISSION-SIG": "c2lnbmF0dXJl",
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }
    with pytest.raises(WebhookRejected) as refused:
        verifier.verify(b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED"}', headers)
    assert refused.value.code in ("stale_timestamp", "cert_url_not_allowed")
    return refused.value.code == "stale_timestamp"


def trusted(verifier: WebhookVerifier, urls: list[str]) -> list[bool]:
    return [trusts(verifier, url) for url in urls]


@pytest.mark.parametrize("api_base", ["https://api-m.paypal.com", "https://api.paypal.com"])
def test_production_trusts_only_paypals_live_certificate_hosts(
    tmp_path: Path, api_base: str
) -> None:
    with paypal_verifier(
        tmp_path, environment="production", paypal_api_base=api_base, **LIVE
    ) as verifier:
        assert isinstance(verifier, PayPalWebhookVerifier)
        assert trusted(verifier, LIVE_CERTS) == [True, True]
        assert trusted(verifier, SANDBOX_CERTS) == [False, False]
        assert trusted(verifier, LOOPBACK_CERTS) == [False, False, False]


def test_development_with_the_emulator_trusts_the_emulator_alone(tmp_path: Path) -> None:
    with paypal_verifier(tmp_path, environment="development", paypal_api_base=EMULATOR) as verifier:
        assert trusts(verifier, EMULATOR_CERT)
        assert not trusts(verifier, f"http://127.0.0.1:12113{CERT}")  # another port
        assert trusted(verifier, LIVE_CERTS) == [False, False]
        assert trusted(verifier, SANDBOX_CERTS) == [False, False]


def test_development_with_paypals_sandbox_trusts_its_sandbox_hosts(tmp_path: Path) -> None:
    with paypal_verifier(
        tmp_path, environment="development", paypal_api_base="https://api-m.sandbox.paypal.com"
    ) as verifier:
        assert trusted(verifier, SANDBOX_CERTS) == [True, True]
        assert trusted(verifier, LIVE_CERTS) == [False, False]
        assert not trusts(verifier, EMULATOR_CERT)
