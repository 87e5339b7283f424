"""A running API with PayPal wired to the project's PayPal sandbox, for flow tests.

The sandbox delivers its signed webhooks to the API over HTTP, as PayPal would; the API runs
in a thread on a free port; the janitor runs on every worker pass. Yields the API client, the
sandbox's base URL and the container (whose worker the test drives).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from eventpay.bootstrap import Container
from eventpay.sandbox.paypal import BackgroundServer, RetryPolicy
from eventpay.sandbox.paypal import create_app as create_paypal
from eventpay.serving import ThreadedServer, free_port
from eventpay.web import create_app
from support.stack import make_settings, seeded_container


@contextmanager
def paypal_stack(
    database_url: str, stripe_sandbox: str, *, webhook_id: str
) -> Iterator[tuple[httpx.Client, str, Container]]:
    api_port = free_port()
    hook = f"http://127.0.0.1:{api_port}/v1/webhooks/paypal"
    sandbox_app = create_paypal(
        environment="test",
        webhooks=[(hook, webhook_id)],
        webhook_retry=RetryPolicy(base_delay_s=0.1, max_attempts=5),
    )
    with BackgroundServer(sandbox_app) as paypal:
        settings = make_settings(
            database_url,
            stripe_sandbox,
            host="127.0.0.1",
            port=api_port,
            paypal_api_base=paypal.base_url,
            paypal_webhook_id=webhook_id,
            worker_janitor_interval_s=0.0,
        )
        with seeded_container(settings) as container:
            app = create_app(container=container)
            with (
                ThreadedServer(app, port=api_port) as api,
                httpx.Client(base_url=api.url, timeout=10) as client,
            ):
                yield client, paypal.base_url, container
