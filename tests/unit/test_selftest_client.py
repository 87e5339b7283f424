"""The self-test's client: a polite 429 wait, tokens and signatures the service accepts, and
scenarios that need PayPal skipped (not failed) against a service with PayPal off."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from eventpay.config import DEV_JWT_KEY
from eventpay.ports import Role
from eventpay.providers.stripe_webhook import StripeWebhookVerifier
from eventpay.selftest.checks import Scenario, ScenarioFailed, expect
from eventpay.selftest.client import PoliteTransport, ServiceUnderTest
from eventpay.selftest.credentials import Credentials, stripe_signature
from eventpay.selftest.runner import run_selftest
from eventpay.web.auth import decode_token


def _limited_then_ok(limited: int, retry_after: str = "2") -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(len(calls))
        if len(calls) <= limited:
            return httpx.Response(429, headers={"Retry-After": retry_after}, json={"error": {}})
        return httpx.Response(201, json={"body": request.content.decode()})

    return httpx.MockTransport(answer), calls


def test_a_rate_limited_request_is_sent_again_after_retry_after() -> None:
    inner, calls = _limited_then_ok(2)
    slept: list[float] = []
    with httpx.Client(transport=PoliteTransport(inner, sleep=slept.append)) as client:
        response = client.post("http://service/v1/orders", content=b'{"items": []}')
    assert response.status_code == 201
    assert response.json() == {"body": '{"items": []}'}  # the same body, sent again
    assert slept == [2.0, 2.0]
    assert len(calls) == 3


def test_it_gives_up_after_the_longest_wait_and_shows_the_429() -> None:
    inner, calls = _limited_then_ok(100, retry_after="20")
    slept: list[float] = []
    transport = PoliteTransport(inner, sleep=slept.append, max_wait_s=30)
    with httpx.Client(transport=transport) as client:
        response = client.get("http://service/v1/orders/x")
    assert response.status_code == 429
    assert slept == [20.0]
    assert len(calls) == 2


def test_an_unreadable_retry_after_waits_one_second() -> None:
    inner, _ = _limited_then_ok(1, retry_after="soon")
    slept: list[float] = []
    with httpx.Client(transport=PoliteTransport(inner, sleep=slept.append)) as client:
        assert client.get("http://service/v1/events").status_code == 201
    assert slept == [1.0]


# What the self-test makes with the operator's secrets is what the service accepts.

CREDENTIALS = Credentials(
    stripe_webhook_secret="whsec_unit",
    paypal_client_secret="paypal-secret",
    paypal_webhook_id="WH-UNIT",
    jwt_key=DEV_JWT_KEY,
    jwt_audience="eventpay-api",
)


def test_its_tokens_are_ones_the_service_accepts() -> None:
    token = CREDENTIALS.token("competitor-1001", "competitor")
    principal = decode_token(
        token, key=DEV_JWT_KEY, algorithm="HS256", audience="eventpay-api", ip_address=None
    )
    assert (principal.user_id, principal.role) == ("competitor-1001", Role.COMPETITOR)


def test_its_stripe_signatures_are_ones_the_service_verifies() -> None:
    body = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    now = datetime(2030, 1, 1, tzinfo=UTC)
    header = stripe_signature(body, "whsec_unit", int(now.timestamp()))
    verified = StripeWebhookVerifier(["whsec_unit"]).verify(
        body, {"stripe-signature": header}, now=now
    )
    assert verified.event_id == "evt_1"


# PayPal switched off at the service: its scenarios are skipped with the reason, not failed.


def _service(paypal: dict[str, str] | None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/payment-config":
            return httpx.Response(
                200, json={"stripe": {"publishable_key": "pk_test_x"}, "paypal": paypal}
            )
        return httpx.Response(200, json=[])

    return httpx.MockTransport(answer)


def _card(sut: ServiceUnderTest) -> str:
    expect(sut.api.get("/v1/events"), 200)
    return "events listed"


def _paypal(sut: ServiceUnderTest) -> str:
    sut.paypal()
    raise ScenarioFailed("the PayPal sandbox never approved")


SCENARIOS = (
    Scenario("card", _card),
    Scenario("paypal-marked", _paypal, needs_paypal=True),
    Scenario("paypal-unmarked", _paypal),
)


def test_paypal_scenarios_are_skipped_with_the_reason_when_paypal_is_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = run_selftest(
        CREDENTIALS, base_url="http://service", scenarios=SCENARIOS, transport=_service(None)
    )

    lines = capsys.readouterr().out.splitlines()
    reason = "PayPal is disabled: GET /v1/payment-config says paypal is null"
    assert lines[1].startswith("PASS card (events listed; ")
    assert lines[2:] == [
        f"SKIP paypal-marked: {reason}",
        f"SKIP paypal-unmarked: {reason}",  # found out by asking, not by its mark
        "1 passed, 0 failed, 2 skipped",
    ]
    assert status == 0


def test_paypal_scenarios_run_and_can_fail_when_paypal_is_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paypal = {"client_id": "sandbox-client", "api_base": "http://paypal"}
    status = run_selftest(
        CREDENTIALS, base_url="http://service", scenarios=SCENARIOS, transport=_service(paypal)
    )

    out = capsys.readouterr().out
    assert "FAIL paypal-marked: the PayPal sandbox never approved" in out
    assert out.endswith("1 passed, 2 failed, 0 skipped\n")
    assert status == 1
