"""Serving the Stripe sandbox: `run` in the foreground, `BackgroundServer` in a thread.

Stripe's defaults only (port 12111, the `stripe-sandbox` thread); binding and uvicorn plumbing
are plumbing/server.py's, and the app itself comes from app.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eventpay.sandbox.plumbing import server

from .app import create_app, refuse_production
from .idempotency import TTL_S
from .webhooks import RetryPolicy


def run(
    host: str = "127.0.0.1",
    port: int = 12111,
    *,
    webhook_retry: RetryPolicy | None = None,
    endpoints: Sequence[tuple[str, str]] = (),
    environment: str = "development",
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
    idempotency_window_s: float = TTL_S,
) -> None:
    """Serve a new sandbox until interrupted; `on_ready(base_url)` runs once it listens."""
    refuse_production(environment)
    app = create_app(
        webhook_retry=webhook_retry,
        endpoints=endpoints,
        environment=environment,
        idempotency_window_s=idempotency_window_s,
    )
    server.serve(app, host, port, log_level=log_level, on_ready=on_ready)


class BackgroundServer(server.BackgroundServer):
    """Serve an ASGI app from a daemon thread on a free local port: `with ... as server:`."""

    thread_name = "stripe-sandbox"
