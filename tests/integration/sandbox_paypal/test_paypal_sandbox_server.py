"""Running the sandbox: production refused, start-up checks, index page, reset, the command line."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from eventpay.sandbox.paypal import RetryPolicy, create_app, run
from eventpay.sandbox.paypal.__main__ import parse_args


@pytest.mark.parametrize("environment", ["production", "prod", " Production "])
def test_production_is_refused(environment: str) -> None:
    with pytest.raises(RuntimeError):
        create_app(environment=environment)
    with pytest.raises(RuntimeError):
        run(port=0, environment=environment)


@pytest.mark.parametrize(
    "webhooks",
    [[("not a url", "WH1")], [("http://127.0.0.1:9/hook", "has space")], [("http://h/x", "a|b")]],
)
def test_bad_start_up_webhooks_are_refused(webhooks) -> None:
    with pytest.raises(ValueError, match="webhook"):
        create_app(webhooks=webhooks)


def test_credentials_come_in_pairs_and_retry_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        create_app(client_id="only-the-id")
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy(base_delay_s=1, factor=2, max_delay_s=5).delay_after(4) == 5


def test_index_page_describes_the_sandbox(http: httpx.Client) -> None:
    page = http.get("/")

    assert page.status_code == 200
    assert "PayPal sandbox" in page.text
    assert "/_sandbox/orders/{id}/capture-outcome" in page.text
    assert "sb-buyer@personal.example.com" in page.text


def test_reset_forgets_objects_but_keeps_tokens(paypal) -> None:
    order = paypal.create_order()

    paypal.http.post("/_sandbox/reset")

    assert paypal.get(f"/v2/checkout/orders/{order['id']}").status_code == 404
    assert paypal.http.get("/_sandbox/events").json() == {"data": []}


def test_command_line_pairs_webhook_urls_with_ids() -> None:
    args = parse_args(["--port", "0", "--webhook-url", "http://h/a", "--webhook-id", "WH1"])

    assert (args.port, args.webhook_url, args.webhook_id) == (0, ["http://h/a"], ["WH1"])
    with pytest.raises(SystemExit):
        parse_args(["--webhook-url", "http://h/a"])


def test_python_dash_m_serves_and_prints_its_url() -> None:
    command = [
        sys.executable,
        "-m",
        "eventpay.sandbox.paypal",
        "--port",
        "0",
        "--log-level",
        "warning",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            page = httpx.get(f"{url}/", timeout=5)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert page.status_code == 200


def test_production_on_the_command_line_exits_with_an_error() -> None:
    command = [sys.executable, "-m", "eventpay.sandbox.paypal", "--environment", "production"]

    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)

    assert result.returncode == 2
    assert "refuses to run in the production environment" in result.stderr
