"""The composition root: settings in, a wired container out.

The only module that knows every adapter. `create_app` (web), the worker and the CLI each build
one `Container` from `Settings`; nothing builds an engine or reads the environment at import.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import text
from sqlalchemy.engine import Engine

from eventpay.config import Settings
from eventpay.db import SqlUnitOfWorkFactory, make_engine
from eventpay.db.engine import is_postgres
from eventpay.domain import FeePolicy
from eventpay.domain.membership_status import DunningPolicy
from eventpay.metrics import Metrics
from eventpay.ports import Clock, PaymentProvider, PayoutProvider, ProviderName, WebhookVerifier
from eventpay.ports.capabilities import SUBSCRIPTIONS, MembershipBilling, SubscriptionProvider
from eventpay.ports.connect import connect_of
from eventpay.ports.sponsorships import SPONSOR_INVOICES
from eventpay.providers import (
    PayPalPostbackVerifier,
    PayPalProvider,
    PayPalWebhookVerifier,
    StripeProvider,
    StripeWebhookVerifier,
    cert_hosts_for,
    stripe_client,
)
from eventpay.providers.metered import MeteredProvider
from eventpay.providers.paypal_billing import PayPalBilling
from eventpay.providers.paypal_sponsor_invoices import PayPalSponsorInvoices
from eventpay.providers.probes import ProviderStatus, probe_paypal, probe_stripe
from eventpay.providers.stripe_billing import StripeBilling
from eventpay.providers.stripe_invoicing import StripeSponsorInvoices
from eventpay.providers.stripe_payouts import StripeTransferPayouts
from eventpay.services.payments import ReturnUrls
from eventpay.services.webhooks import RetryPolicy

# How long a provider probe's answer stands: load balancers probe every few seconds, on every
# server process, and the providers need not hear about each probe.
PROBE_TTL_S = 10.0
PROBE_TIMEOUT_S = 2.0


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
    order_expiry: timedelta = field(default=timedelta(minutes=15))
    return_urls: ReturnUrls | None = None
    # Readiness probes of the configured providers, each `() -> ProviderStatus`.
    probes: dict[ProviderName, Callable[[], ProviderStatus]] = field(default_factory=dict)
    # The providers that pay organizers out, by the name a payout stores ("paypal").
    payout_rails: dict[str, PayoutProvider] = field(default_factory=dict)
    _statuses: dict[ProviderName, tuple[float, ProviderStatus]] = field(
        default_factory=dict, init=False, repr=False
    )

    @functools.cached_property
    def read_uow_factory(self) -> SqlUnitOfWorkFactory:
        """Units of work for a few reads that need no transaction: on PostgreSQL in autocommit
        (no BEGIN and ROLLBACK round trips; each statement sees the latest commits), on SQLite
        the ordinary ones (its transactions are how it serializes writers)."""
        if not is_postgres(self.engine):
            return self.uow_factory
        return SqlUnitOfWorkFactory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    def database_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def probed_providers(self) -> list[ProviderName]:
        return list(self.probes)

    def provider_status(self, provider: ProviderName) -> ProviderStatus:
        """The provider's probe result, at most `PROBE_TTL_S` old (see `providers.probes`)."""
        now = time.monotonic()
        cached = self._statuses.get(provider)
        if cached is not None and now - cached[0] < PROBE_TTL_S:
            return cached[1]
        status = self.probes[provider]()
        self._statuses[provider] = (time.monotonic(), status)
        return status

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


def _probes(settings: Settings) -> dict[ProviderName, Callable[[], ProviderStatus]]:
    probes: dict[ProviderName, Callable[[], ProviderStatus]] = {
        ProviderName.STRIPE: lambda: probe_stripe(
            api_base=settings.stripe_api_base,
            secret_key=settings.stripe_secret_key.get_secret_value(),
            timeout_s=min(PROBE_TIMEOUT_S, settings.stripe_timeout_s),
        )
    }
    if settings.paypal_enabled:
        probes[ProviderName.PAYPAL] = lambda: probe_paypal(
            api_base=settings.paypal_api_base,
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret.get_secret_value(),
            timeout_s=min(PROBE_TIMEOUT_S, settings.paypal_timeout_s),
        )
    return probes


def _payout_rails(providers: dict[ProviderName, PaymentProvider]) -> dict[str, PayoutProvider]:
    """The providers that pay organizers: PayPal Payouts, and Stripe Connect transfers to
    connected accounts, by the name a payout stores."""
    rails: dict[str, PayoutProvider] = {}
    if ProviderName.PAYPAL in providers:
        rails[ProviderName.PAYPAL.value] = cast(PayoutProvider, providers[ProviderName.PAYPAL])
    connect = connect_of(providers.get(ProviderName.STRIPE))
    if connect is not None:
        rails[ProviderName.STRIPE.value] = StripeTransferPayouts(connect)
    return rails


def _sell_memberships(
    settings: Settings,
    adapters: dict[ProviderName, PaymentProvider],
    gateways: dict[ProviderName, SubscriptionProvider],
) -> None:
    """Expose each provider's subscriptions (`ports.capabilities.subscriptions_of`), with the
    tiers and dunning policy from settings."""
    tiers = settings.tiers
    policy = DunningPolicy(grace_days=settings.membership_grace_days)
    for name, gateway in gateways.items():
        adapter = adapters.get(name)
        if adapter is not None:
            setattr(adapter, SUBSCRIPTIONS, MembershipBilling(gateway, tiers, policy))


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
    adapters: dict[ProviderName, PaymentProvider] = {ProviderName.STRIPE: StripeProvider(client)}
    verifiers: dict[ProviderName, WebhookVerifier] = {ProviderName.STRIPE: verifier}
    if settings.paypal_enabled:
        adapters[ProviderName.PAYPAL], verifiers[ProviderName.PAYPAL] = _paypal(settings)
    gateways: dict[ProviderName, SubscriptionProvider] = {
        ProviderName.STRIPE: StripeBilling(client)
    }
    paypal = adapters.get(ProviderName.PAYPAL)
    if isinstance(paypal, PayPalProvider):
        gateways[ProviderName.PAYPAL] = PayPalBilling(paypal.api)
    _sell_memberships(settings, adapters, gateways)
    # Sponsor invoices (`ports.sponsorships.sponsor_invoices_of`).
    setattr(adapters[ProviderName.STRIPE], SPONSOR_INVOICES, StripeSponsorInvoices(client))
    if isinstance(paypal, PayPalProvider):
        setattr(paypal, SPONSOR_INVOICES, PayPalSponsorInvoices(paypal.api))
    metrics = Metrics()
    # Every provider call of every use case is timed here, once (`providers.metered`).
    providers: dict[ProviderName, PaymentProvider] = {
        name: MeteredProvider(adapter, metrics.observe_provider_call)
        for name, adapter in adapters.items()
    }
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
        metrics=metrics,
        order_expiry=timedelta(minutes=settings.order_expiry_minutes),
        return_urls=ReturnUrls(settings.base_url),
        probes=_probes(settings),
        payout_rails=_payout_rails(providers),
    )
