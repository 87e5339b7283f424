"""Settings guard rails: which key and base combinations may run where."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eventpay.config import DEV_JWT_KEY, Settings

LIVE = {
    "database_url": "postgresql+psycopg://eventpay@db.internal/eventpay",
    "stripe_secret_key": "sk_live_abc",
    "stripe_publishable_key": "pk_live_abc",
    "stripe_api_base": "https://api.stripe.com",
    "jwt_key": "a-real-production-key",
    "stripe_webhook_secrets": "whsec_live_1",
    "paypal_api_base": "https://api-m.paypal.com",
    "paypal_client_id": "AbCdLiveClient",
    "paypal_client_secret": "live-secret",
}


def test_defaults_are_a_development_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVENTPAY_ENVIRONMENT", "EVENTPAY_DATABASE_URL", "EVENTPAY_STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.environment.value == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.uses_sandbox
    assert not settings.is_production


def test_production_accepts_live_configuration() -> None:
    settings = Settings(environment="production", **LIVE)
    assert settings.is_production
    assert not settings.uses_sandbox


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"stripe_secret_key": "sk_test_x"}, "test keys"),
        ({"stripe_secret_key": "rk_test_x"}, "test keys"),
        ({"stripe_publishable_key": "pk_test_x"}, "test keys"),
        ({"stripe_api_base": "http://127.0.0.1:12111"}, "API base"),
        ({"jwt_key": DEV_JWT_KEY}, "development JWT key"),
        ({"stripe_webhook_secrets": "whsec_eventpay_sandbox_secret"}, "sandbox webhook secret"),
        ({"paypal_api_base": "http://127.0.0.1:12112"}, "PayPal sandbox"),
        ({"paypal_api_base": "https://api-m.sandbox.paypal.com"}, "PayPal sandbox"),
        ({"paypal_client_id": "eventpay-sandbox-client"}, "PayPal sandbox"),
    ],
)
def test_production_refuses_test_setups(override: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(environment="production", **{**LIVE, **override})


def test_production_refuses_the_sqlite_default_when_no_database_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EVENTPAY_DATABASE_URL", raising=False)
    live = {name: value for name, value in LIVE.items() if name != "database_url"}
    with pytest.raises(ValidationError, match="EVENTPAY_DATABASE_URL"):
        Settings(environment="production", **live)


def test_production_takes_the_database_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTPAY_DATABASE_URL", "postgresql+psycopg://eventpay@db/eventpay")
    live = {name: value for name, value in LIVE.items() if name != "database_url"}
    settings = Settings(environment="production", **live)
    assert settings.database_url == "postgresql+psycopg://eventpay@db/eventpay"


@pytest.mark.parametrize("environment", ["development", "test"])
@pytest.mark.parametrize(
    "override",
    [
        {"stripe_secret_key": "sk_live_x"},
        {"stripe_secret_key": "rk_live_x"},
        {"stripe_publishable_key": "pk_live_x"},
    ],
)
def test_other_environments_refuse_live_keys(environment: str, override: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="refuses live Stripe keys"):
        Settings(environment=environment, **override)


def test_webhook_secrets_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPAY_STRIPE_WEBHOOK_SECRETS", "whsec_new, whsec_old")
    secrets = [s.get_secret_value() for s in Settings().stripe_webhook_secrets]
    assert secrets == ["whsec_new", "whsec_old"]


def test_an_empty_secret_list_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        Settings(stripe_webhook_secrets="")


def test_secrets_never_appear_in_repr() -> None:
    settings = Settings(stripe_secret_key="sk_test_verysecret", jwt_key="jwt-verysecret")
    text = repr(settings) + str(settings) + settings.model_dump_json()
    assert "verysecret" not in text


def test_rate_limits_are_on_by_default_and_set_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("ENABLED", "PER_MINUTE", "WRITES_PER_MINUTE")
    for name in names:
        monkeypatch.delenv(f"EVENTPAY_RATE_LIMIT_{name}", raising=False)
    defaults = Settings()
    assert defaults.rate_limit_enabled
    assert (defaults.rate_limit_per_minute, defaults.rate_limit_writes_per_minute) == (300, 60)

    for name, value in zip(names, ("false", "1000", "10"), strict=True):
        monkeypatch.setenv(f"EVENTPAY_RATE_LIMIT_{name}", value)
    configured = Settings()
    assert not configured.rate_limit_enabled
    assert (configured.rate_limit_per_minute, configured.rate_limit_writes_per_minute) == (1000, 10)


@pytest.mark.parametrize("field", ["rate_limit_per_minute", "rate_limit_writes_per_minute"])
def test_a_rate_limit_below_one_a_minute_is_refused(field: str) -> None:
    # Switching limits off is `rate_limit_enabled=false`, never a zero that refuses everyone.
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: 0})


@pytest.mark.parametrize(
    ("name", "value"),
    [("EVENTPAY_PLATFORM_FEE_PERCENT", "150"), ("EVENTPAY_PLATFORM_FEE_FIXED_MINOR", "-1")],
)
def test_an_absurd_global_fee_is_refused_naming_its_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from pydantic import ValidationError

    from eventpay.config import Settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("EVENTPAY_").lower()):
        Settings()
