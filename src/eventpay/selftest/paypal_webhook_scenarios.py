"""Scenarios at the PayPal webhook: a forged signature, and a certificate from somewhere else.

Both post a `PAYMENT.CAPTURE.COMPLETED` for a fresh, unpaid PayPal attempt (a success nobody
paid for, exactly what a forger would send) straight to `/v1/webhooks/paypal`, signed with a
key the self-test makes itself (forgery.py). One names the sandbox's genuine certificate,
learned from a genuine delivery to a webhook the self-test subscribes for the purpose; the
other names certificate URLs off PayPal's allow-list, one of them a loopback listener serving
the forger's certificate, which must never be contacted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from eventpay.selftest.checks import Scenario, ScenarioFailed, error_code, eventually, throughout
from eventpay.selftest.client import ServiceUnderTest, describe
from eventpay.selftest.forgery import CERT_PATH, ForgerKey, capture_completed
from eventpay.selftest.listener import LOOPBACK, Listener
from eventpay.selftest.paypal_sandbox import APPROVED
from eventpay.selftest.paypal_scenarios import RETURN_URL
from eventpay.selftest.webhook_scenarios import still_unpaid

FORGED_CERT = f"{CERT_PATH}CERT-1"
# A PayPal order at the sandbox only (no attempt of the service names it): approving it makes
# a genuine delivery to show the certificate URL; the service ignores its approval.
_PROBE_ORDER = {
    "intent": "CAPTURE",
    "purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}}],
    "payment_source": {
        "paypal": {"experience_context": {"return_url": RETURN_URL, "cancel_url": RETURN_URL}}
    },
}


def _unpaid_capture_event(sut: ServiceUnderTest) -> tuple[str, bytes]:
    """A fresh order with an unapproved PayPal attempt, and a capture event for all of it."""
    order_id = sut.new_order()["id"]
    payment = sut.paypal_payment(order_id, RETURN_URL)
    paypal = sut.paypal()
    return order_id, capture_completed(paypal.order(payment.token), paypal_base=paypal.base_url)


def _genuine_cert_url(sut: ServiceUnderTest) -> str:
    """The certificate URL the sandbox's own deliveries name, as seen by a subscriber."""
    paypal = sut.paypal()
    with Listener() as subscriber:
        webhook_id = paypal.subscribe(f"{subscriber.url}/paypal-webhook", [APPROVED])
        try:
            probe = paypal.api("POST", "/v2/checkout/orders", _PROBE_ORDER)
            if probe.status_code != 201:
                raise ScenarioFailed(f"the sandbox refused a probe order: {probe.status_code}")
            paypal.approve(str(probe.json()["id"]))
            eventually(lambda: None if subscriber.hits() else "no delivery reached the probe")
        finally:
            paypal.unsubscribe(webhook_id)
    headers = {k.lower(): v for k, v in subscriber.hits()[0].headers.items()}
    cert_url = headers.get("paypal-cert-url", "")
    if not urlsplit(cert_url).path.startswith(CERT_PATH):
        raise ScenarioFailed(f"a genuine delivery names no certificate URL: {cert_url!r}")
    return cert_url


def _unchanged(sut: ServiceUnderTest, order_id: str) -> str | None:
    order = sut.order(order_id)
    return None if still_unpaid(order) else f"expected the order unpaid, but {describe(order)}"


def paypal_forged_webhook(sut: ServiceUnderTest) -> str:
    order_id, body = _unpaid_capture_event(sut)
    cert_url = _genuine_cert_url(sut)
    headers = ForgerKey.generate().signed_headers(
        body, webhook_id=sut.paypal_webhook_id, cert_url=cert_url
    )
    answer = sut.deliver_paypal_webhook(body, headers)
    if answer.status_code != 400 or error_code(answer) != "signature_mismatch":
        raise ScenarioFailed(
            f"a capture signed with the self-test's own key, naming the sandbox's certificate "
            f"{cert_url}, was answered {answer.status_code} "
            f"{error_code(answer) or answer.text[:200]}, expected 400 signature_mismatch"
        )
    throughout(lambda: _unchanged(sut, order_id))
    return (
        f"own key, sandbox's certificate ({urlsplit(cert_url).path}): 400 signature_mismatch; "
        "order still awaiting_payment"
    )


def paypal_cert_url_not_allowed(sut: ServiceUnderTest) -> str:
    order_id, body = _unpaid_capture_event(sut)
    forger = ForgerKey.generate()
    with Listener(forger.pem(), "application/x-pem-file") as trap:
        cert_urls = (
            f"https://evil.example.com{FORGED_CERT}",
            f"{sut.base_url}{FORGED_CERT}",
            f"{trap.url}{FORGED_CERT}",
            f"https://{LOOPBACK}:{trap.port}{FORGED_CERT}",
        )
        wrong = []
        for cert_url in cert_urls:
            headers = forger.signed_headers(
                body, webhook_id=sut.paypal_webhook_id, cert_url=cert_url
            )
            answer = sut.deliver_paypal_webhook(body, headers)
            code = error_code(answer)
            if answer.status_code != 400 or code != "cert_url_not_allowed":
                wrong.append(f"{cert_url}: {answer.status_code} {code or answer.text[:120]}")
        if wrong:
            raise ScenarioFailed(
                f"expected 400 cert_url_not_allowed for every URL, got {'; '.join(wrong)} "
                f"(the forger's listener was contacted {trap.connections}x)"
            )

        def fetched_or_paid() -> str | None:
            if trap.connections:
                hits = [f"{h.method} {h.path}" for h in trap.hits()]
                return f"the service connected to the forger's server {trap.connections}x {hits}"
            return _unchanged(sut, order_id)

        throughout(fetched_or_paid)
    return (
        f"{len(cert_urls)} certificate URLs (evil.example.com, the service's own host, a local "
        "listener over http and https): 400 cert_url_not_allowed; listener never contacted; "
        "order still awaiting_payment"
    )


SCENARIOS = (
    Scenario("paypal-forged-webhook", paypal_forged_webhook, needs_paypal=True),
    Scenario("paypal-cert-url-not-allowed", paypal_cert_url_not_allowed, needs_paypal=True),
)
