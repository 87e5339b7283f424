"""The `eventpay ledger` subcommand: verify the books, backfill an older database's history.

`verify` prints `ledger clean: N orders` and exits 0, or the first problem, how many there
are, and exits 1. `backfill` posts the history of orders whose money moved before the ledger
existed; it is idempotent.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from eventpay.config import Settings


def cmd_ledger(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from eventpay.bootstrap import build_container
    from eventpay.services import books

    container = build_container(settings, pool_size=1)
    try:
        if args.action == "backfill":
            posted = books.backfill(uow_factory=container.uow_factory, now=datetime.now(UTC))
            print(f"ledger backfill: {posted} orders posted")
            return 0
        report = books.verify(uow_factory=container.uow_factory)
        if report.clean:
            print(f"ledger clean: {report.orders} orders, every transaction balanced")
            return 0
        print(f"ledger NOT clean: {report.problems[0]}")
        if len(report.problems) > 1:
            print(f"  and {len(report.problems) - 1} more problems")
        return 1
    finally:
        container.close()


def add_ledger_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
    require_migrated: Callable[[Settings], None],
) -> None:
    """Add `ledger` to the `eventpay` parser's subcommands (`sub`)."""
    ledger = sub.add_parser("ledger", help="verify the double-entry ledger, or backfill it")
    actions = ledger.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "verify",
        help="check every transaction balances and every order's postings match its attempts",
    )
    actions.add_parser(
        "backfill",
        help="post the history of orders paid before the ledger existed (idempotent)",
    )

    def run(args: argparse.Namespace) -> int:
        chosen = settings()
        require_migrated(chosen)
        return cmd_ledger(args, chosen)

    ledger.set_defaults(func=run)
