"""Settings: the one place the environment is read.

`Settings()` is built once by the composition root (`create_app`, the CLI); nothing else reads
environment variables. Secrets are `SecretStr` so they never reach a log line or a repr. The
validators here are the guard rails between environments: production refuses test keys and
sandbox bases and the SQLite default database, every other environment refuses live keys.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from eventpay.domain.membership_tiers import DEFAULT_TIERS_SETTING, MembershipTier, parse_tiers

DEV_JWT_KEY = "eventpay-development-signing-key-not-for-production"
STRIPE_PUBLIC_API = "https://api.stripe.com"
PAYPAL_LIVE_APIS = ("https://api-m.paypal.com", "https://api.paypal.com")
PAYPAL_SANDBOX_CLIENT_ID = "eventpay-sandbox-client"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigError(ValueError):
    """A setting combination that must never run."""


def _split_secrets(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVENTPAY_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path('var/eventpay.db')}")
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str | None = None

    stripe_secret_key: SecretStr = SecretStr("sk_test_eventpay_sandbox")
    stripe_publishable_key: str = "pk_test_eventpay_sandbox"
    # Several secrets are accepted at once so a rotated endpoint secret keeps working.
    stripe_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr("whsec_eventpay_sandbox_secret")]
    )
    stripe_api_base: str = "http://127.0.0.1:12111"
    stripe_timeout_s: float = 10.0
    stripe_max_network_retries: int = 0

    paypal_enabled: bool = True
    paypal_client_id: str = PAYPAL_SANDBOX_CLIENT_ID
    paypal_client_secret: SecretStr = SecretStr("eventpay-sandbox-secret")
    paypal_api_base: str = "http://127.0.0.1:12112"
    paypal_webhook_id: str = "WH-EVENTPAY-SANDBOX"
    paypal_timeout_s: float = 10.0
    # "certificate": verify offline against PayPal's signing certificate (default);
    # "postback": ask PayPal's verify-webhook-signature API.
    paypal_verification: str = Field(default="certificate", pattern="^(certificate|postback)$")

    jwt_key: SecretStr = SecretStr(DEV_JWT_KEY)
    jwt_algorithm: str = "HS256"
    jwt_audience: str | None = None

    webhook_tolerance_s: int = 300
    webhook_max_body_bytes: int = 1024 * 1024
    worker_poll_interval_s: float = 0.2
    worker_max_attempts: int = 8
    # How often a worker re-asks providers about unknown payments, uncaptured approvals and
    # unsent refunds (Kill Bill's "janitor"); every call repeats the stored idempotency key.
    worker_janitor_interval_s: float = 5.0

    # The global platform fee; organizers and events may set their own (the event's wins).
    platform_fee_percent: Decimal = Field(default=Decimal("5.0"), ge=0, le=100)
    platform_fee_fixed_minor: int = Field(default=50, ge=0, le=1_000_000)
    # How long an order holds its places unpaid (its reservation), then expires.
    order_expiry_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    # Membership tiers, cheapest first (`domain.membership_tiers.parse_tiers`), and the grace
    # after the last renewal retry during which member prices still apply.
    membership_tiers: str = DEFAULT_TIERS_SETTING
    membership_grace_days: int = Field(default=7, ge=0, le=90)

    # Per-process budgets per caller (docs/operations.md): reads per user id, and per client IP
    # on the public routes; money-moving POSTs per user id. A bucket holds a minute's budget, so
    # a caller may spend it at once. Provider webhooks and health routes are never limited.
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=300, ge=1)
    rate_limit_writes_per_minute: int = Field(default=60, ge=1)

    log_json: bool = False

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_csv(cls, data: object) -> object:
        if isinstance(data, dict) and "stripe_webhook_secrets" in data:
            data["stripe_webhook_secrets"] = _split_secrets(data["stripe_webhook_secrets"])
        return data

    @model_validator(mode="after")
    def _environment_guard(self) -> Settings:
        secret = self.stripe_secret_key.get_secret_value()
        if self.environment is Environment.PRODUCTION:
            # The default is a file under the working directory: in production that would be a
            # second, empty database beside the real one, silently taking orders.
            if "database_url" not in self.model_fields_set:
                raise ConfigError(
                    "production refuses the SQLite default database: set EVENTPAY_DATABASE_URL"
                )
            if secret.startswith(
                ("sk_test_", "rk_test_")
            ) or self.stripe_publishable_key.startswith("pk_test_"):
                raise ConfigError("production refuses Stripe test keys")
            if self.stripe_api_base.rstrip("/") != STRIPE_PUBLIC_API:
                raise ConfigError("production refuses a Stripe API base other than Stripe's own")
            if self.jwt_key.get_secret_value() == DEV_JWT_KEY:
                raise ConfigError("production refuses the development JWT key")
            if any(
                s.get_secret_value().startswith("whsec_eventpay_sandbox")
                for s in self.stripe_webhook_secrets
            ):
                raise ConfigError("production refuses the sandbox webhook secret")
            if self.paypal_enabled and (
                self.paypal_api_base.rstrip("/") not in PAYPAL_LIVE_APIS
                or self.paypal_client_id == PAYPAL_SANDBOX_CLIENT_ID
            ):
                raise ConfigError("production refuses a PayPal sandbox base or sandbox client")
        else:
            if secret.startswith(
                ("sk_live_", "rk_live_")
            ) or self.stripe_publishable_key.startswith("pk_live_"):
                raise ConfigError(f"{self.environment.value} refuses live Stripe keys")
        if not self.stripe_webhook_secrets:
            raise ConfigError("at least one Stripe webhook secret is required")
        try:
            parse_tiers(self.membership_tiers)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return self

    @property
    def tiers(self) -> tuple[MembershipTier, ...]:
        return parse_tiers(self.membership_tiers)

    @property
    def uses_sandbox(self) -> bool:
        return self.stripe_api_base.rstrip("/") != STRIPE_PUBLIC_API

    @property
    def paypal_uses_sandbox(self) -> bool:
        return self.paypal_api_base.rstrip("/") not in PAYPAL_LIVE_APIS

    @property
    def base_url(self) -> str:
        """Where browsers and providers reach this service (return URLs, webhooks)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION
