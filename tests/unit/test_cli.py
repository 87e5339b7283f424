"""The command line: development helpers refuse production, refusals are one line, every option
says what it does, and the sandbox delivers to the configured service by default."""

from __future__ import annotations

import argparse

import pytest
from pydantic import SecretStr

from eventpay.cli import build_parser, main
from eventpay.config import DEV_JWT_KEY, Settings
from eventpay.sandbox_command import sandbox_port, sandbox_webhook
from eventpay.web.auth import decode_token

LIVE = {
    "EVENTPAY_ENVIRONMENT": "production",
    "EVENTPAY_DATABASE_URL": "postgresql+psycopg://eventpay@db.internal/eventpay",
    "EVENTPAY_STRIPE_SECRET_KEY": "sk_live_x",
    "EVENTPAY_STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "EVENTPAY_STRIPE_API_BASE": "https://api.stripe.com",
    "EVENTPAY_JWT_KEY": "production-key-production-key-production-key",
    "EVENTPAY_STRIPE_WEBHOOK_SECRETS": "whsec_live",
    "EVENTPAY_PAYPAL_API_BASE": "https://api-m.paypal.com",
    "EVENTPAY_PAYPAL_CLIENT_ID": "LiveClientId",
}


def test_token_prints_a_verifiable_development_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVENTPAY_ENVIRONMENT", "development")
    monkeypatch.delenv("EVENTPAY_JWT_KEY", raising=False)
    assert main(["token", "--role", "competitor", "--sub", "c-42"]) == 0
    token = capsys.readouterr().out.strip()
    principal = decode_token(
        token, key=DEV_JWT_KEY, algorithm="HS256", audience=None, ip_address=None
    )
    assert principal.user_id == "c-42"


def test_token_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in LIVE.items():
        monkeypatch.setenv(name, value)
    assert main(["token", "--role", "admin", "--sub", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "refused" in captured.err


@pytest.mark.parametrize("command", [["worker"], ["serve"], ["token", "--role=admin", "--sub=x"]])
def test_production_without_a_database_url_is_refused_in_one_line(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in LIVE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EVENTPAY_DATABASE_URL")

    assert main(command) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"eventpay {command[0]}: configuration refused: ")
    assert "EVENTPAY_DATABASE_URL" in captured.err


def _parsers(
    parser: argparse.ArgumentParser, path: str
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, child in action.choices.items():
                assert name in helped, f"`{path} {name}` has no help text in `{path} --help`"
                found += _parsers(child, f"{path} {name}")
    return found


def test_every_subcommand_and_option_has_a_help_text() -> None:
    parsers = _parsers(build_parser(), "eventpay")
    assert {path for path, _ in parsers} >= {"eventpay sandbox", "eventpay webhooks list"}

    missing = [
        f"{path} {'/'.join(action.option_strings) or action.dest}"
        for path, parser in parsers
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert missing == []


def _sandbox_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["sandbox", *argv])


def test_the_stripe_sandbox_delivers_to_the_configured_service_with_its_secret() -> None:
    settings = Settings(
        environment="test",
        public_base_url="https://pay.example.test/",
        stripe_webhook_secrets=[SecretStr("whsec_first"), SecretStr("whsec_second")],
        stripe_api_base="http://127.0.0.1:23111",
    )
    args = _sandbox_args()

    assert sandbox_webhook(args, settings) == (
        "https://pay.example.test/v1/webhooks/stripe",
        "whsec_first",
    )
    assert sandbox_port(args, settings) == 23111


def test_the_paypal_sandbox_delivers_for_the_configured_webhook_id() -> None:
    settings = Settings(environment="test", host="127.0.0.1", port=8123, paypal_webhook_id="WH-OPS")
    args = _sandbox_args("paypal")

    assert sandbox_webhook(args, settings) == ("http://127.0.0.1:8123/v1/webhooks/paypal", "WH-OPS")
    assert sandbox_port(args, settings) == 12112


def test_sandbox_options_override_the_settings_and_no_webhooks_means_none() -> None:
    settings = Settings(environment="test")
    args = _sandbox_args(
        "--webhook-url", "http://h/x", "--webhook-secret", "whsec_y", "--port", "0"
    )

    assert sandbox_webhook(args, settings) == ("http://h/x", "whsec_y")
    assert sandbox_port(args, settings) == 0
    assert sandbox_webhook(_sandbox_args("--no-webhooks"), settings) is None
