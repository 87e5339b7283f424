"""The command-line options every sandbox takes, and the way its `__main__` reports start-up.

A sandbox's `__main__` builds its own parser, in its own option order, from these groups:
`--host/--port`, `--webhook-url` paired with the provider's partner option (a signing secret,
a webhook id), the retry schedule and `--environment/--log-level`. `run_command` prints the base
URL once the server listens (one line, for scripts to read) and turns a refused start into exit
status 2. Provider defaults (port, retry count) are the sandbox's to pass in.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from .delivery import RetryPolicy

PolicyT = TypeVar("PolicyT", bound=RetryPolicy)


def add_address_arguments(parser: argparse.ArgumentParser, *, port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help="0 picks a free port")


def add_webhook_arguments(parser: argparse.ArgumentParser, *, partner: str, metavar: str) -> None:
    """`--webhook-url` and its partner option, both repeatable, given in pairs."""
    parser.add_argument("--webhook-url", action="append", default=[], metavar="URL")
    parser.add_argument(partner, action="append", default=[], metavar=metavar)


def add_retry_arguments(parser: argparse.ArgumentParser, *, max_attempts: int) -> None:
    parser.add_argument("--retry-base-delay", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--retry-max-attempts", type=int, default=max_attempts)


def retry_policy(args: argparse.Namespace, policy: type[PolicyT]) -> PolicyT:
    """The sandbox's own `RetryPolicy` class, with the schedule given on the command line."""
    return policy(base_delay_s=args.retry_base_delay, max_attempts=args.retry_max_attempts)


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--environment", default="development")
    parser.add_argument("--log-level", default="info")


def require_pairs(parser: argparse.ArgumentParser, args: argparse.Namespace, partner: str) -> None:
    """A parser error (exit status 2) unless every `--webhook-url` has its partner option."""
    partners: list[str] = getattr(args, partner.lstrip("-").replace("-", "_"))
    if len(args.webhook_url) != len(partners):
        parser.error(f"give --webhook-url and {partner} in pairs")


def run_command(start: Callable[[Callable[[str], None]], None]) -> None:
    """Call `start(on_ready)`; a start refused by the sandbox or the OS exits with status 2."""

    def announce(url: str) -> None:
        print(url, flush=True)

    try:
        start(announce)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
