"""Command line: `python -m eventpay.sandbox.paypal --host 127.0.0.1 --port 12112 [...]`.

Prints the base URL once the server listens (one line, for scripts to read) and serves until
interrupted. `--webhook-url U --webhook-id ID` pairs (repeatable) subscribe endpoints to every
event, so a demo needs no API call to wire the service; `--client-id` and `--client-secret`
restrict tokens to that one pair; `--request-id-window-s S` makes every PayPal-Request-Id
expire after S seconds instead of PayPal's own windows. The option groups are
plumbing/cli.py's; PayPal's defaults and options are here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from eventpay.sandbox.plumbing import cli

from .server import run
from .webhooks import RetryPolicy


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eventpay.sandbox.paypal", description="Run the PayPal sandbox server."
    )
    cli.add_address_arguments(parser, port=12112)
    cli.add_webhook_arguments(parser, partner="--webhook-id", metavar="ID")
    parser.add_argument(
        "--client-id", default=None, help="the only client id given tokens (default: any)"
    )
    parser.add_argument(
        "--client-secret", default=None, help="the secret of --client-id (give both or neither)"
    )
    parser.add_argument(
        "--request-id-window-s",
        type=float,
        default=None,
        metavar="S",
        help="forget PayPal-Request-Id keys after S seconds "
        "(default: PayPal's windows, 6 hours for orders and 45 days for refunds)",
    )
    cli.add_retry_arguments(parser, max_attempts=25)
    cli.add_runtime_arguments(parser)
    args = parser.parse_args(argv)
    cli.require_pairs(parser, args, "--webhook-id")
    if args.request_id_window_s is not None and args.request_id_window_s <= 0:
        parser.error("--request-id-window-s must be positive")
    if (args.client_id is None) != (args.client_secret is None):
        parser.error("give --client-id and --client-secret together")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def start(on_ready: Callable[[str], None]) -> None:
        run(
            args.host,
            args.port,
            environment=args.environment,
            webhooks=list(zip(args.webhook_url, args.webhook_id, strict=True)),
            webhook_retry=cli.retry_policy(args, RetryPolicy),
            client_id=args.client_id,
            client_secret=args.client_secret,
            request_id_window_s=args.request_id_window_s,
            log_level=args.log_level,
            on_ready=on_ready,
        )

    cli.run_command(start)


if __name__ == "__main__":
    main()
