"""Command line: `python -m eventpay.sandbox.stripe --host 127.0.0.1 --port 12111 [...]`.

Prints the base URL once the server listens (one line, for scripts to read) and serves until
interrupted. `--webhook-url U --webhook-secret S` pairs (repeatable) register endpoints that
receive every event, so a demo needs no API call to wire the service. The option groups are
plumbing/cli.py's; Stripe's defaults are here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from eventpay.sandbox.plumbing import cli

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
    args = parser.parse_args(argv)
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
        )

    cli.run_command(start)


if __name__ == "__main__":
    main()
