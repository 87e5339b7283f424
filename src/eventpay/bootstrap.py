"""The composition root: settings in, a wired container out.

The only module that knows every adapter. `create_app` (web), the worker and the CLI each build
one `Container` from `Settings`; nothing builds an engine or reads the environment at import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.engine import Engine

from eventpay.config import Settings
from eventpay.db import SqlUnitOfWorkFactory, make_engine
from eventpay.domain import FeePolicy
from eventpay.metrics import Metrics
from eventpay.ports import Clock, PaymentProvider, ProviderName, WebhookVerifier
from eventpay.providers import (
    PayPalPostbackVerifier,
    PayPalProvider,
    PayPalWebhookVerifier,
    StripeProvider,
    StripeWebhookVerifier,
    cert_hosts_for,
    stripe_client,
)
from eventpay.services.payments import ReturnUrls
from eventpay.services.webhooks import RetryPolicy


def _reachable(base: str) -> bool:
    # Any HTTP answer means the provider's edge is up; only a network failure is "down".
    try:
        httpx.get(base, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow_factory: SqlUnitOfWorkFactory
    providers: dict[ProviderName, PaymentProvider]
    verifiers: dict[ProviderName, WebhookVerifier]
    fee_policy: FeePolicy
    retry: RetryPolicy
    metrics: Metrics
    clock: Clock = utc_now
    order_expiry: timedelta = field(default=timedelta(minutes=60))
    return_urls: ReturnUrls | None = None

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def stripe_ready(self) -> bool:
        return _reachable(self.settings.stripe_api_base)

    def paypal_ready(self) -> bool | None:
        """None when PayPal is switched off (not a reason to be unready)."""
        return _reachable(self.settings.paypal_api_base) if self.settings.paypal_enabled else None

    def close(self) -> None:
        for adapter in [*self.providers.values(), *self.verifiers.values()]:
            close = getattr(adapter, "close", None)
            if callable(close):
                close()
        self.engine.dispose()


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Every provider call would otherwise log its URL at INFO; failures still surface.
    for noisy in ("httpx", "httpcore", "stripe", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        # Plain tracebacks: the rich formatter takes seconds per error under load.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )


def _paypal(settings: Settings) -> tuple[PayPalProvider, WebhookVerifier]:
    provider = PayPalProvider(
        client_id=settings.paypal_client_id,
        client_secret=settings.paypal_client_secret.get_secret_value(),
        api_base=settings.paypal_api_base,
        timeout_s=settings.paypal_timeout_s,
    )
    verifier: WebhookVerifier
    if settings.paypal_verification == "postback":
        verifier = PayPalPostbackVerifier(
            api=provider.api,
            webhook_id=settings.paypal_webhook_id,
            tolerance_s=settings.webhook_tolerance_s,
        )
    else:
        verifier = PayPalWebhookVerifier(
            webhook_id=settings.paypal_webhook_id,
            allowed_cert_hosts=cert_hosts_for(
                settings.paypal_api_base, production=settings.is_production
            ),
            tolerance_s=settings.webhook_tolerance_s,
        )
    return provider, verifier


def build_container(settings: Settings, *, pool_size: int = 10) -> Container:
    engine = make_engine(settings.database_url, pool_size=pool_size)
    client = stripe_client(
        secret_key=settings.stripe_secret_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        timeout_s=settings.stripe_timeout_s,
        max_network_retries=settings.stripe_max_network_retries,
    )
    verifier = StripeWebhookVerifier(
        [s.get_secret_value() for s in settings.stripe_webhook_secrets],
        tolerance_s=settings.webhook_tolerance_s,
    )
    providers: dict[ProviderName, PaymentProvider] = {ProviderName.STRIPE: StripeProvider(client)}
    verifiers: dict[ProviderName, WebhookVerifier] = {ProviderName.STRIPE: verifier}
    if settings.paypal_enabled:
        providers[ProviderName.PAYPAL], verifiers[ProviderName.PAYPAL] = _paypal(settings)
    return Container(
        settings=settings,
        engine=engine,
        uow_factory=SqlUnitOfWorkFactory(engine),
        providers=providers,
        verifiers=verifiers,
        fee_policy=FeePolicy(
            percent=settings.platform_fee_percent, fixed_minor=settings.platform_fee_fixed_minor
        ),
        retry=RetryPolicy(max_attempts=settings.worker_max_attempts),
        metrics=Metrics(),
        order_expiry=timedelta(minutes=settings.order_expiry_minutes),
        return_urls=ReturnUrls(settings.base_url),
    )
