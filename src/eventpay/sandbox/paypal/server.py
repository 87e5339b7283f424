"""Serving the PayPal sandbox: `run` in the foreground, `BackgroundServer` in a thread.

PayPal's defaults only (port 12112, the `paypal-sandbox` thread); binding and uvicorn plumbing
are plumbing/server.py's, and the app itself comes from app.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eventpay.sandbox.plumbing import server

from .app import create_app, refuse_production
from .webhooks import RetryPolicy


def run(
    host: str = "127.0.0.1",
    port: int = 12112,
    *,
    environment: str = "development",
    webhooks: Sequence[tuple[str, str]] = (),
    webhook_retry: RetryPolicy | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    request_id_window_s: float | None = None,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a new sandbox until interrupted; `on_ready(base_url)` runs once it listens."""
    refuse_production(environment)
    app = create_app(
        environment=environment,
        webhooks=webhooks,
        webhook_retry=webhook_retry,
        client_id=client_id,
        client_secret=client_secret,
        request_id_window_s=request_id_window_s,
    )
    server.serve(app, host, port, log_level=log_level, on_ready=on_ready)


class BackgroundServer(server.BackgroundServer):
    """Serve an ASGI app from a daemon thread on a free local port: `with ... as server:`."""

    thread_name = "paypal-sandbox"
