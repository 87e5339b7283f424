"""`eventpay payouts run [--dry-run]`: pay organizers what is available to them, from cron.

Safe on several machines at once: each organizer and currency is paid at most once per period
(the database keeps one winner; the others report it as already paid). Prints a progress bar on
standard error and a summary table; exit status 0 when every payout was sent or nothing was
due, 1 when some failed or await a retry (the worker's janitor sends those again).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from eventpay.config import Settings

BAR = 30


def _bar(done: int, total: int) -> None:
    filled = BAR * done // total if total else BAR
    print(
        f"\r  [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} organizer balances",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _money(amount: int, currency: str) -> str:
    from eventpay.domain import Money

    return str(Money(amount, currency))


def cmd_payouts_run(args: argparse.Namespace, settings: Settings) -> int:
    from eventpay.bootstrap import build_container
    from eventpay.services import payouts
    from eventpay.services.errors import ServiceError

    container = build_container(settings, pool_size=1)
    try:
        report = payouts.run(
            uow_factory=container.uow_factory,
            rails=container.payout_rails,
            clock=container.clock,
            actor="cli:payouts-run",
            period=args.period,
            dry_run=args.dry_run,
            organizer_ids=args.organizer or None,
            progress=None if args.quiet else _bar,
        )
    except ServiceError as exc:
        print(f"payouts run refused: {exc.message}", file=sys.stderr)
        return 2
    finally:
        container.close()
    if not args.quiet:
        print(file=sys.stderr)
    mode = "dry run, nothing written" if report.dry_run else f"run {report.run_id}"
    print(f"payouts for period {report.period} ({mode})")
    row = "  {:<24} {:<8} {:>14} {:>14} {:>14}  {}"
    print(row.format("organizer", "currency", "available", "held", "pending", "outcome"))
    for line in report.lines:
        p = line.position
        print(
            row.format(
                line.organizer_id,
                line.currency,
                str(p.available),
                str(p.held),
                str(p.pending),
                line.outcome + (f" {line.payout_id}" if line.payout_id else ""),
            )
        )
    totals = ", ".join(_money(v, c) for c, v in sorted(report.totals().items())) or "nothing"
    verb = "would pay" if report.dry_run else "paying"
    print(f"{len(report.paid_lines())} payouts, {verb} {totals}")
    if not report.dry_run:
        print(f"sent {report.sent}, failed {report.failed}, awaiting retry {report.unsent}")
    return 1 if report.failed or report.unsent else 0


def add_payouts_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
    require_migrated: Callable[[Settings], None],
) -> None:
    """Add `payouts run` to the `eventpay` parser's subcommands (`sub`)."""
    parser = sub.add_parser("payouts", help="pay organizers what is available to them")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="pay every organizer's available balance, once a period")
    run.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    run.add_argument(
        "--period",
        help="the period paid (default: today's UTC date); one payout per organizer, currency "
        "and period, however many runs",
    )
    run.add_argument("--organizer", action="append", help="pay only this organizer (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    def go(args: argparse.Namespace) -> int:
        chosen = settings()
        require_migrated(chosen)
        return cmd_payouts_run(args, chosen)

    run.set_defaults(func=go)
