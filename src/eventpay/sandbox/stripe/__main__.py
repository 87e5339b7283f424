"""Command line: `python -m eventpay.sandbox.stripe --host 127.0.0.1 --port 12111 [...]`.

Prints the base URL once the server listens (one line, for scripts to read) and serves until
interrupted. `--webhook-url U --webhook-secret S` pairs (repeatable) register endpoints that
receive every event, so a demo needs no API call to wire the service.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .server import run
from .webhooks import RetryPolicy


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eventpay.sandbox.stripe", description="Run the Stripe sandbox server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--webhook-url", action="append", default=[], metavar="URL")
    parser.add_argument("--webhook-secret", action="append", default=[], metavar="WHSEC")
    parser.add_argument("--retry-base-delay", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--retry-max-attempts", type=int, default=10)
    parser.add_argument("--environment", default="development")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if len(args.webhook_url) != len(args.webhook_secret):
        parser.error("give --webhook-url and --webhook-secret in pairs")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def announce(url: str) -> None:
        print(url, flush=True)

    try:
        run(
            args.host,
            args.port,
            webhook_retry=RetryPolicy(
                base_delay_s=args.retry_base_delay, max_attempts=args.retry_max_attempts
            ),
            endpoints=list(zip(args.webhook_url, args.webhook_secret, strict=True)),
            environment=args.environment,
            log_level=args.log_level,
            on_ready=announce,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
