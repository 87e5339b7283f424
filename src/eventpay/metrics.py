"""Prometheus metrics, one registry per application instance (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks_received = Counter(
            "eventpay_webhooks_received_total",
            "Webhook deliveries by provider and outcome (stored, duplicate, rejected reason).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.webhooks_processed = Counter(
            "eventpay_webhooks_processed_total",
            "Stored webhook events handled by the worker, by resulting status.",
            ["provider", "status"],
            registry=self.registry,
        )
        self.payments_started = Counter(
            "eventpay_payments_started_total",
            "Payment attempts started, by provider and resulting status.",
            ["provider", "status"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "eventpay_rate_limited_total",
            "Requests refused with 429 by the per-process rate limits, by route class.",
            ["route_class"],
            registry=self.registry,
        )
        # Recorded by `providers.metered.MeteredProvider` around every adapter call.
        self.provider_call_seconds = Histogram(
            "eventpay_provider_call_seconds",
            "Time spent in payment provider calls, by provider, adapter operation and outcome"
            " (ok, rejected, unknown, misconfigured).",
            ["provider", "operation", "outcome"],
            registry=self.registry,
        )

    def observe_provider_call(
        self, provider: str, operation: str, outcome: str, seconds: float
    ) -> None:
        self.provider_call_seconds.labels(provider, operation, outcome).observe(seconds)
