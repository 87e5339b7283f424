"""`eventpay selftest` end to end: it passes against a real stack and says so when it should not.

The scenario names are spelled out here, not imported, so renaming or dropping one fails a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from eventpay.config import Environment, Settings
from eventpay.demo import run_selftest_for, start_stack, stop_stack
from support.net import free_port

SCENARIOS = (
    "success",
    "declined-card",
    "3ds-challenge-completed",
    "3ds-challenge-failed",
    "webhook-delivered-20-times",
    "forged-signature",
    "stale-timestamp",
    "paypal-success",
    "paypal-buyer-cancels",
    "paypal-capture-declined",
    "paypal-webhook-races-return",
    "paypal-forged-webhook",
    "paypal-cert-url-not-allowed",
    "double-payment-refunded",
    "refund-withdrawal-before-cutoff",
    "refund-credit-not-offered",
    "unknown-field-rejected",
    "closed-registration",
    "other-buyers-order-hidden",
    "idempotency-key-replay",
    "connect-destination-charge",
    "multi-organizer-cart-transfers",
    "payout-reserve-held-until-after-event",
    "paypal-payout-batch",
    "payout-unclaimed-returns",
    "capacity-no-oversell",
    "promo-code-last-use-race",
    "reservation-expired-payment-refunded",
    "team-registration",
    "series-package",
    "vip-upgrade",
    "gate-and-multi-day-pass",
    "merch-with-variants",
    "membership-subscribe-and-renew",
    "membership-payment-fails-then-recovers",
    "sponsor-invoice-paid",
    "reconcile-detects-mismatch",
    "ledger-verify",
    "reconcile-clean",
)


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.TEST, database_url=f"sqlite:///{tmp_path / 'eventpay.db'}"
    )


PAYPAL_SCENARIOS = {name for name in SCENARIOS if "paypal" in name} | {
    "sponsor-invoice-paid",
    "double-payment-refunded",
    "payout-unclaimed-returns",
}


@pytest.fixture(params=[True], ids=["paypal-on"])
def running_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A demo stack started by the test itself; yields the settings it runs with."""
    settings = _settings(tmp_path).model_copy(
        update={
            "port": free_port(),
            "stripe_api_base": f"http://127.0.0.1:{free_port()}",
            "paypal_api_base": f"http://127.0.0.1:{free_port()}",
            "paypal_enabled": request.param,
        }
    )
    stack = start_stack(settings)
    try:
        yield settings
    finally:
        stop_stack(stack)


@pytest.mark.slow
def test_every_scenario_passes_against_its_own_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_selftest_for(_settings(tmp_path), base_url=None)

    out = capsys.readouterr().out
    assert status == 0, out
    for name in SCENARIOS:
        assert f"PASS {name} (" in out, out
    assert f"{len(SCENARIOS)} passed, 0 failed, 0 skipped" in out


@pytest.mark.slow
def test_a_second_run_against_the_same_service_passes_too(
    running_stack: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # One competitor holds a class once: a run that bought as the competitors of the run
    # before would be refused (409 already_registered) on every paid scenario.
    base_url = f"http://127.0.0.1:{running_stack.port}"
    for run in ("first", "second"):
        status = run_selftest_for(running_stack, base_url=base_url)

        out = capsys.readouterr().out
        assert status == 0, f"{run} run:\n{out}"
        assert f"{len(SCENARIOS)} passed, 0 failed, 0 skipped" in out, f"{run} run:\n{out}"


@pytest.mark.slow
@pytest.mark.parametrize("running_stack", [False], ids=["paypal-off"], indirect=True)
def test_paypal_scenarios_are_skipped_against_a_service_with_paypal_off(
    running_stack: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_selftest_for(running_stack, base_url=f"http://127.0.0.1:{running_stack.port}")

    out = capsys.readouterr().out
    assert status == 0, out
    reason = "PayPal is disabled: GET /v1/payment-config says paypal is null"
    for name in SCENARIOS:
        expected = f"SKIP {name}: {reason}" if name in PAYPAL_SCENARIOS else f"PASS {name} ("
        assert expected in out, out
    others = len(SCENARIOS) - len(PAYPAL_SCENARIOS)
    assert f"{others} passed, 0 failed, {len(PAYPAL_SCENARIOS)} skipped" in out


def test_every_scenario_fails_when_nothing_listens(
    tmp_path: Path, free_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_selftest_for(_settings(tmp_path), base_url=f"http://127.0.0.1:{free_port}")

    out = capsys.readouterr().out
    assert status == 1
    for name in SCENARIOS:
        assert f"FAIL {name}: ConnectError" in out, out
    assert f"0 passed, {len(SCENARIOS)} failed, 0 skipped" in out


@pytest.mark.slow
def test_webhook_scenarios_fail_when_the_service_refuses_valid_signatures(
    running_stack: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # The self-test signs with a secret the service does not hold: to it, the service now
    # refuses correctly signed deliveries, and exactly the scenarios that rely on them fail.
    mismatched = running_stack.model_copy(
        update={"stripe_webhook_secrets": [SecretStr("whsec_not_the_services_secret")]}
    )
    base_url = f"http://127.0.0.1:{running_stack.port}"

    status = run_selftest_for(mismatched, base_url=base_url)

    out = capsys.readouterr().out
    assert status == 1
    assert (
        "FAIL webhook-delivered-20-times: 20 of 20 deliveries were not answered 2xx: "
        "400 signature_mismatch x20"
    ) in out
    assert "FAIL stale-timestamp: POST /v1/webhooks/stripe answered 400 signature_mismatch" in out
    assert "PASS forged-signature (" in out
    assert f"{len(SCENARIOS) - 2} passed, 2 failed, 0 skipped" in out


def test_refused_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    production = Settings(
        environment=Environment.PRODUCTION,
        database_url="postgresql+psycopg://eventpay@db.internal/eventpay",
        stripe_secret_key=SecretStr("sk_live_selftest"),
        stripe_publishable_key="pk_live_selftest",
        stripe_api_base="https://api.stripe.com",
        jwt_key=SecretStr("a-production-verification-key-for-this-test"),
        stripe_webhook_secrets=[SecretStr("whsec_live_selftest")],
        paypal_api_base="https://api-m.paypal.com",
        paypal_client_id="LiveSelftestClient",
    )

    status = run_selftest_for(production, base_url="http://127.0.0.1:9")

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert "refused" in captured.err
