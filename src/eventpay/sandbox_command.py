"""The `eventpay sandbox` subcommand: run the Stripe or PayPal sandbox on its own.

By default the sandbox delivers its signed events to the service the settings describe, signed
the way that service verifies them; without an endpoint, a payment confirmed at the sandbox
never becomes paid at the service, with no error anywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlsplit

from eventpay.config import Settings

SANDBOX_PORTS = {"stripe": 12111, "paypal": 12112}


def sandbox_webhook(args: argparse.Namespace, settings: Settings) -> tuple[str, str] | None:
    """Where the sandbox delivers its events and with what: (URL, Stripe secret or PayPal id).

    By default the service these settings describe, signed the way it verifies: without an
    endpoint a payment is confirmed at the sandbox and never becomes paid at the service.
    """
    if args.no_webhooks:
        return None
    url = args.webhook_url or f"{settings.base_url}/v1/webhooks/{args.provider}"
    if args.provider == "paypal":
        return url, args.webhook_id or settings.paypal_webhook_id
    return url, args.webhook_secret or settings.stripe_webhook_secrets[0].get_secret_value()


def sandbox_port(args: argparse.Namespace, settings: Settings) -> int:
    """`--port`, else the port of the API base the service is configured to call."""
    if args.port is not None:
        return int(args.port)
    base = settings.paypal_api_base if args.provider == "paypal" else settings.stripe_api_base
    return urlsplit(base).port or SANDBOX_PORTS[args.provider]


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    webhook = sandbox_webhook(args, settings)
    signed = "PayPal webhook id" if args.provider == "paypal" else "Stripe endpoint secret"

    def ready(base_url: str) -> None:
        print(f"{args.provider} sandbox on {base_url}", flush=True)
        if webhook is None:
            print("  delivers no events (--no-webhooks): nothing will become paid", flush=True)
        else:
            print(f"  delivers every event to {webhook[0]} (signed: {signed})", flush=True)

    host, port, environment = args.host, sandbox_port(args, settings), settings.environment.value
    if args.provider == "paypal":
        from eventpay.sandbox.paypal import run as run_paypal

        run_paypal(
            host,
            port,
            environment=environment,
            webhooks=[webhook] if webhook else [],
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret.get_secret_value(),
            on_ready=ready,
            request_id_window_s=args.idempotency_window,
        )
    else:
        from eventpay.sandbox.stripe import run as run_stripe

        endpoints = [webhook] if webhook else []
        run_stripe(
            host,
            port,
            environment=environment,
            endpoints=endpoints,
            on_ready=ready,
            **(
                {}
                if args.idempotency_window is None
                else {"idempotency_window_s": args.idempotency_window}
            ),
        )
    return 0


def add_sandbox_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
) -> None:
    """Add `sandbox` to the `eventpay` parser's subcommands (`sub`)."""
    sandbox = sub.add_parser(
        "sandbox",
        help="run the Stripe or PayPal sandbox on its own (never in production)",
        description="Run a provider sandbox that delivers its signed events to the service.",
    )
    sandbox.add_argument(
        "provider",
        nargs="?",
        choices=sorted(SANDBOX_PORTS),
        default="stripe",
        help="which sandbox (default: %(default)s)",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    sandbox.add_argument(
        "--port",
        type=int,
        help="port (default: the port of EVENTPAY_STRIPE_API_BASE or EVENTPAY_PAYPAL_API_BASE)",
    )
    sandbox.add_argument(
        "--webhook-url",
        help="where to deliver events (default: EVENTPAY_PUBLIC_BASE_URL, else "
        "http://EVENTPAY_HOST:EVENTPAY_PORT, + /v1/webhooks/<provider>)",
    )
    sandbox.add_argument(
        "--webhook-secret",
        help="Stripe: the endpoint secret to sign with (default: the first of "
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS)",
    )
    sandbox.add_argument(
        "--webhook-id",
        help="PayPal: the webhook id events are sent for (default: EVENTPAY_PAYPAL_WEBHOOK_ID)",
    )
    sandbox.add_argument(
        "--no-webhooks",
        action="store_true",
        help="deliver no events (payments then never become paid at the service)",
    )
    sandbox.add_argument(
        "--idempotency-window",
        type=float,
        metavar="SECONDS",
        help="how long the sandbox remembers an idempotency key (default: the provider's own: "
        "Stripe 24 h; PayPal 6 h for orders and captures, 45 days for refunds)",
    )
    sandbox.set_defaults(func=lambda args: cmd_sandbox(args, settings()))
