"""The `eventpay ledger` and `eventpay reconcile` subcommands: the books, checked two ways.

`ledger verify` prints `ledger clean: N orders` and exits 0, or the first problem, how many
there are, and exits 1. `ledger backfill` posts the history of orders whose money moved before
the ledger existed; it is idempotent. `reconcile --provider P --since DATE` compares our
payments and refunds with the provider's own list, stores the run, prints a summary table of
the mismatches by kind (and the first few), and exits 1 when there are any.
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


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    import sys
    from collections import Counter
    from datetime import UTC, datetime

    from eventpay.bootstrap import build_container
    from eventpay.ports import ProviderName
    from eventpay.services import reconciliation

    since = datetime.fromisoformat(args.since)
    since = since if since.tzinfo else since.replace(tzinfo=UTC)

    def progress(read: int) -> None:
        print(f"\r  read {read} movements from {args.provider}", end="", file=sys.stderr)

    container = build_container(settings, pool_size=1)
    try:
        run = reconciliation.reconcile(
            uow_factory=container.uow_factory,
            providers=container.providers,
            provider=ProviderName(args.provider),
            since=since,
            now=datetime.now(UTC),
            progress=progress,
        )
    finally:
        container.close()
    print(file=sys.stderr)
    print(
        f"reconcile {args.provider} since {since.isoformat()}: ours {run.ours}, theirs {run.theirs}"
    )
    if not run.mismatches:
        print("clean: every payment, refund, transfer and payout agrees")
        return 0
    for kind, count in sorted(Counter(m.kind.value for m in run.mismatches).items()):
        print(f"  {kind:<18} {count:>6}")
    for m in run.mismatches[:10]:
        print(f"  {m.kind.value} {m.ref}: {m.detail}")
    return 1


def add_reconcile_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
    require_migrated: Callable[[Settings], None],
) -> None:
    """Add `reconcile` to the `eventpay` parser's subcommands (`sub`)."""
    parser = sub.add_parser(
        "reconcile", help="compare our payments and refunds with Stripe's or PayPal's records"
    )
    parser.add_argument(
        "--provider", choices=["stripe", "paypal"], required=True, help="whose records to read"
    )
    parser.add_argument(
        "--since",
        required=True,
        help="the start of the period, an ISO date or date-time (UTC unless it says)",
    )

    def run(args: argparse.Namespace) -> int:
        chosen = settings()
        require_migrated(chosen)
        return cmd_reconcile(args, chosen)

    parser.set_defaults(func=run)
