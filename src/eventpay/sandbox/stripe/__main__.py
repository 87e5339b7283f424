"""Command line: `python -m eventpay.sandbox.stripe --host 127.0.0.1 --port 12111 [...]`.

Prints the base URL once the server listens (one line, for scripts to read) and serves until
interrupted. `--webhook-url U --webhook-secret S` pairs (repeatable) register endpoints that
receive every event, so a demo needs no API call to wire the service. `--idempotency-window
SECONDS` sets how long Idempotency-Keys are remembered (Stripe's 24 h by default). The option
groups are plumbing/cli.py's; Stripe's defaults are here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from eventpay.sandbox.plumbing import cli

from .idempotency import TTL_S
from .server import run
from .webhooks import RetryPolicy


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eventpay.sandbox.stripe", description="Run the Stripe sandbox server."
    )
    cli.add_address_arguments(parser, port=12111)
    cli.add_webhook_arguments(parser, partner="--webhook-secret", metavar="WHSEC")
    cli.add_retry_arguments(parser, max_attempts=10)
    cli.add_runtime_arguments(parser)
    parser.add_argument(
        "--idempotency-window",
        type=float,
        default=TTL_S,
        metavar="SECONDS",
        help="how long an Idempotency-Key is remembered (default: %(default)s, Stripe's 24 h)",
    )
    args = parser.parse_args(argv)
    if args.idempotency_window <= 0:
        parser.error("--idempotency-window must be a positive number of seconds")
    cli.require_pairs(parser, args, "--webhook-secret")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def start(on_ready: Callable[[str], None]) -> None:
        run(
            args.host,
            args.port,
            webhook_retry=cli.retry_policy(args, RetryPolicy),
            endpoints=list(zip(args.webhook_url, args.webhook_secret, strict=True)),
            environment=args.environment,
            log_level=args.log_level,
            on_ready=on_ready,
            idempotency_window_s=args.idempotency_window,
        )

    cli.run_command(start)


if __name__ == "__main__":
    main()
