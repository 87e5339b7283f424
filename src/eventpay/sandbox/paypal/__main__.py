"""Command line: `python -m eventpay.sandbox.paypal --host 127.0.0.1 --port 12112 [...]`.

Prints the base URL once the server listens (one line, for scripts to read) and serves until
interrupted. `--webhook-url U --webhook-id ID` pairs (repeatable) subscribe endpoints to every
event, so a demo needs no API call to wire the service; `--client-id` and `--client-secret`
restrict tokens to that one pair.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .server import run
from .webhooks import RetryPolicy


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eventpay.sandbox.paypal", description="Run the PayPal sandbox server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12112, help="0 picks a free port")
    parser.add_argument("--webhook-url", action="append", default=[], metavar="URL")
    parser.add_argument("--webhook-id", action="append", default=[], metavar="ID")
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--client-secret", default=None)
    parser.add_argument("--retry-base-delay", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--retry-max-attempts", type=int, default=25)
    parser.add_argument("--environment", default="development")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if len(args.webhook_url) != len(args.webhook_id):
        parser.error("give --webhook-url and --webhook-id in pairs")
    if (args.client_id is None) != (args.client_secret is None):
        parser.error("give --client-id and --client-secret together")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def announce(url: str) -> None:
        print(url, flush=True)

    try:
        run(
            args.host,
            args.port,
            environment=args.environment,
            webhooks=list(zip(args.webhook_url, args.webhook_id, strict=True)),
            webhook_retry=RetryPolicy(
                base_delay_s=args.retry_base_delay, max_attempts=args.retry_max_attempts
            ),
            client_id=args.client_id,
            client_secret=args.client_secret,
            log_level=args.log_level,
            on_ready=announce,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
