"""Starting the sandbox: production refusal, start-up checks, the command line, form decoding."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from eventpay.sandbox.stripe import create_app, run
from eventpay.sandbox.stripe.__main__ import main
from eventpay.sandbox.stripe.errors import ParameterError
from eventpay.sandbox.stripe.forms import decode


@pytest.mark.parametrize("environment", ["production", "Production", " prod "])
def test_refuses_to_run_in_production(environment: str) -> None:
    with pytest.raises(RuntimeError, match="production"):
        create_app(environment=environment)
    with pytest.raises(RuntimeError, match="production"):
        run("127.0.0.1", 0, environment=environment)


@pytest.mark.parametrize(
    "endpoint",
    [("ftp://service.example/hooks", "whsec_x"), ("http://service.example/hooks", "secret")],
)
def test_startup_endpoints_are_checked(endpoint: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="webhook"):
        create_app(endpoints=[endpoint])


def test_command_line_refuses_unpaired_webhook_flags_and_production(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as unpaired:
        main(["--webhook-url", "http://127.0.0.1:9/hooks"])
    with pytest.raises(SystemExit) as production:
        main(["--port", "0", "--environment", "production"])

    assert unpaired.value.code == 2
    assert production.value.code == 2
    assert "production" in capsys.readouterr().err


def test_command_line_prints_base_url_and_registers_webhooks() -> None:
    command = [
        sys.executable,
        "-m",
        "eventpay.sandbox.stripe",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "warning",
        "--webhook-url",
        "http://127.0.0.1:9/hooks/stripe",
        "--webhook-secret",
        "whsec_cli",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            listed = httpx.get(
                f"{base_url}/v1/webhook_endpoints",
                headers={"Authorization": "Bearer sk_test_cli"},
                timeout=5,
            ).json()
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert base_url.startswith("http://127.0.0.1:")
    assert [ep["url"] for ep in listed["data"]] == ["http://127.0.0.1:9/hooks/stripe"]
    assert listed["data"][0]["enabled_events"] == ["*"]


def test_form_decoding_builds_nested_hashes_and_arrays() -> None:
    decoded = decode(
        "amount=100&metadata[event_id]=x&metadata[empty]=&expand[0]=latest_charge"
        "&expand[1]=payment_method&automatic_payment_methods[enabled]=true"
        "&enabled_events[]=a.b&enabled_events[]=c.d&items[0][price]=p1&items[1][price]=p2"
    )

    assert decoded == {
        "amount": "100",
        "metadata": {"event_id": "x", "empty": ""},
        "expand": ["latest_charge", "payment_method"],
        "automatic_payment_methods": {"enabled": "true"},
        "enabled_events": ["a.b", "c.d"],
        "items": [{"price": "p1"}, {"price": "p2"}],
    }


def test_form_decoding_rejects_a_key_used_as_value_and_hash() -> None:
    with pytest.raises(ParameterError):
        decode("metadata[a]=1&metadata=2")
