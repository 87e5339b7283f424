"""The `eventpay statement` subcommand: an organizer's statement for an operator, as a file.

It asks `services.organizer_money` as an admin would through the API, and prints the same
document the API answers: CSV, PDF or JSON (`--format`, default csv), to `--output` or stdout.
The period is [from, to): `--to 2026-12-01` covers November up to its last second. Exit status:
0 written, 1 no such organizer, 2 a period that is empty or backwards.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from eventpay.config import Settings

OPERATOR = "eventpay-cli"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time (2026-11-01, 2026-11-01T12:00+01:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_statement(args: argparse.Namespace, settings: Settings) -> int:
    from eventpay.bootstrap import build_container
    from eventpay.ports import Principal, Role
    from eventpay.services import organizer_money
    from eventpay.services.errors import InvalidRequest, NotFound

    operator = Principal(user_id=OPERATOR, role=Role.ADMIN)
    container = build_container(settings, pool_size=1)
    try:
        sections = organizer_money.statement(
            uow_factory=container.uow_factory,
            caller=operator,
            organizer_id=args.organizer,
            since=args.since,
            until=args.until,
        )
        name = organizer_money.organizer_name(
            uow_factory=container.uow_factory, caller=operator, organizer_id=args.organizer
        )
        generated_at = container.clock()
        held = organizer_money.held_now(
            uow_factory=container.uow_factory,
            caller=operator,
            organizer_id=args.organizer,
            now=generated_at,
        )
    except NotFound as exc:
        print(f"eventpay statement: {exc.message} ({args.organizer})", file=sys.stderr)
        return 1
    except InvalidRequest as exc:
        print(f"eventpay statement: {exc.message}", file=sys.stderr)
        return 2
    finally:
        container.close()

    if args.format == "pdf":
        from eventpay.web.statement_pdf import statement_pdf

        document = statement_pdf(
            organizer_id=args.organizer,
            organizer_name=name,
            since=args.since,
            until=args.until,
            sections=sections,
            generated_at=generated_at,
            held=held,
        )
    elif args.format == "json":
        from eventpay.web.schemas import statement_out

        out = statement_out(args.organizer, args.since, args.until, sections, held)
        document = (out.model_dump_json(by_alias=True, indent=2) + "\n").encode()
    else:
        from eventpay.web.schemas import statement_csv

        document = statement_csv(sections, held).encode()

    if args.output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
    else:
        Path(args.output).write_bytes(document)
        entries = sum(len(s.entries) for s in sections)
        print(f"statement {args.organizer}: {entries} entries written to {args.output}")
    return 0


def add_statement_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
    require_migrated: Callable[[Settings], None],
) -> None:
    """Add `statement` to the `eventpay` parser's subcommands (`sub`)."""
    parser = sub.add_parser(
        "statement", help="write an organizer's statement for a period as CSV, PDF or JSON"
    )
    parser.add_argument("--organizer", required=True, help="the organizer's id")
    parser.add_argument(
        "--from",
        dest="since",
        type=_moment,
        required=True,
        help="start of the period, included: an ISO date or date-time (UTC unless it says)",
    )
    parser.add_argument(
        "--to",
        dest="until",
        type=_moment,
        required=True,
        help="end of the period, excluded (2026-12-01 for all of November)",
    )
    parser.add_argument(
        "--format", choices=["csv", "pdf", "json"], default="csv", help="default: %(default)s"
    )
    parser.add_argument("--output", help="file to write (default: stdout)")

    def run(args: argparse.Namespace) -> int:
        chosen = settings()
        require_migrated(chosen)
        return cmd_statement(args, chosen)

    parser.set_defaults(func=run)
