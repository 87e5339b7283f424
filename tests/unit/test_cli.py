"""The CLI's development helpers refuse production."""

from __future__ import annotations

import pytest

from eventpay.cli import main
from eventpay.config import DEV_JWT_KEY
from eventpay.web.auth import decode_token


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
    live = {
        "EVENTPAY_ENVIRONMENT": "production",
        "EVENTPAY_STRIPE_SECRET_KEY": "sk_live_x",
        "EVENTPAY_STRIPE_PUBLISHABLE_KEY": "pk_live_x",
        "EVENTPAY_STRIPE_API_BASE": "https://api.stripe.com",
        "EVENTPAY_JWT_KEY": "production-key-production-key-production-key",
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": "whsec_live",
        "EVENTPAY_PAYPAL_API_BASE": "https://api-m.paypal.com",
        "EVENTPAY_PAYPAL_CLIENT_ID": "LiveClientId",
    }
    for name, value in live.items():
        monkeypatch.setenv(name, value)
    assert main(["token", "--role", "admin", "--sub", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "refused" in captured.err
