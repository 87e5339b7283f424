"""The `eventpay` command: serve, worker, migrate, seed, demo, sandbox, token, webhooks, ledger,
statement, selftest. The sandbox, ledger and statement subcommands live in `sandbox_command`,
`ledger_command` and `statement_command`.

A command that cannot run says so in one line on stderr and exits 2: settings the
guard rails refuse, or (`serve`, `worker`) a database not migrated to this code's schema, which
would otherwise fail on every request and every poll. `worker` stops after the current event on
SIGTERM (systemd, Kubernetes) as on Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import ValidationError

from eventpay.catalog_command import add_catalog_command
from eventpay.config import Environment, Settings
from eventpay.ledger_command import add_ledger_command, add_reconcile_command
from eventpay.payouts_command import add_payouts_command
from eventpay.ports import Role
from eventpay.sandbox_command import add_sandbox_command
from eventpay.statement_command import add_statement_command

if TYPE_CHECKING:
    from eventpay.bootstrap import Container


class Refused(Exception):
    """The command must not run; the message is the one line it prints."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            field = ".".join(str(part) for part in error["loc"])
            reasons.append(f"EVENTPAY_{field.upper()}: {message}" if field else message)
        raise Refused("configuration refused: " + "; ".join(reasons)) from None


def _require_migrated(settings: Settings) -> None:
    from eventpay.db.schema_check import schema_problem

    problem = schema_problem(settings.database_url)
    if problem is not None:
        raise Refused(problem)


def cmd_migrate(_: argparse.Namespace) -> int:
    from eventpay.db import migrate

    settings = _settings()
    migrate(settings.database_url)
    print("database migrated")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    _require_migrated(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers > 1:
        uvicorn.run(
            "eventpay.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="warning",
            access_log=False,
        )
        return 0
    from eventpay.web import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)
    return 0


@contextmanager
def _stopped_by_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM and SIGINT end the loop after the current event; a second one ends it now.

    The previous handlers come back afterwards (`worker --once` may run inside another program).
    """

    def handle(signum: int, _frame: FrameType | None) -> None:
        # Restore the default first: an operator who insists (a stuck provider call) wins.
        default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        signal.signal(signum, default)
        stop()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    _require_migrated(settings)
    from eventpay.bootstrap import build_container, configure_logging
    from eventpay.worker import Worker

    configure_logging(settings)
    container = build_container(settings, pool_size=2)
    worker = Worker(container)
    try:
        with _stopped_by_signals(worker.stop):
            if args.once:
                print(f"handled {worker.run_once()} events")
            else:
                worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()
    finally:
        container.close()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from eventpay.web.auth import issue_token

    settings = _settings()
    if settings.environment is Environment.PRODUCTION:
        print("refused: tokens are issued by the identity provider in production", file=sys.stderr)
        return 2
    print(
        issue_token(
            key=settings.jwt_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            subject=args.sub,
            role=Role(args.role),
            organizer_id=args.organizer_id,
            audience=settings.jwt_audience,
        )
    )
    return 0


def _replay(container: Container, event_row_id: str, *, queue_only: bool) -> int:
    from eventpay.ports import WebhookStatus
    from eventpay.services import webhooks
    from eventpay.services.errors import NotFound

    try:
        if queue_only:
            event = webhooks.replay(
                uow_factory=container.uow_factory, event_row_id=event_row_id, now=container.clock()
            )
        else:
            event = webhooks.replay_now(
                uow_factory=container.uow_factory,
                providers=container.providers,
                clock=container.clock,
                retry=container.retry,
                event_row_id=event_row_id,
            )
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        return 1
    named = f"{event.id} {event.provider.value} {event.event_id}"
    if queue_only:
        print(f"{named} queued for replay")
    elif event.status in (WebhookStatus.RETRYING, WebhookStatus.DEAD):
        print(f"{named} failed ({event.status.value}): {event.last_error}")
        return 1
    else:
        print(f"{named} {event.status.value}")
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    from eventpay.bootstrap import build_container
    from eventpay.ports import WebhookStatus

    container = build_container(_settings(), pool_size=1)
    try:
        if args.action == "replay":
            return _replay(container, args.id, queue_only=args.queue_only)
        status = WebhookStatus(args.status) if args.status else None
        with container.uow_factory() as uow:
            rows = uow.webhooks.list(status=status, limit=args.limit)
        for ev in rows:
            error = f" error={ev.last_error}" if ev.last_error else ""
            print(
                f"{ev.id} {ev.provider.value} {ev.event_id} {ev.type} {ev.status.value} "
                f"attempts={ev.attempts}{error}"
            )
        return 0
    finally:
        container.close()


def cmd_seed(_: argparse.Namespace) -> int:
    settings = _settings()
    if settings.is_production:
        raise Refused("refused: the sample catalog and member are for trials, not production")
    _require_migrated(settings)
    from eventpay.demo import seed_sample_catalog

    print(seed_sample_catalog(settings))
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from eventpay.demo import run_demo

    return run_demo(_settings())


def cmd_selftest(args: argparse.Namespace) -> int:
    from eventpay.demo import run_selftest_for

    return run_selftest_for(_settings(), base_url=args.base_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventpay",
        description=__doc__,
        epilog="Configuration: EVENTPAY_* environment variables (docs/operations.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (refuses an unmigrated database)")
    serve.add_argument("--host", help="address to listen on (default: EVENTPAY_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: EVENTPAY_PORT, 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (default: %(default)s)"
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="apply stored webhook events and run the janitor; stops on SIGTERM/Ctrl-C"
    )
    worker.add_argument("--once", action="store_true", help="drain due events and exit")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="run everything locally with sample data").set_defaults(
        func=cmd_demo
    )
    sub.add_parser(
        "seed", help="add the sample catalog and member to the database (not in production)"
    ).set_defaults(func=cmd_seed)

    add_sandbox_command(sub, settings=_settings)
    add_ledger_command(sub, settings=_settings, require_migrated=_require_migrated)
    add_reconcile_command(sub, settings=_settings, require_migrated=_require_migrated)
    add_payouts_command(sub, settings=_settings, require_migrated=_require_migrated)
    add_statement_command(sub, settings=_settings, require_migrated=_require_migrated)
    add_catalog_command(sub, settings=_settings, require_migrated=_require_migrated)

    token = sub.add_parser("token", help="print a development JWT (refused in production)")
    token.add_argument(
        "--role", choices=[r.value for r in Role], required=True, help="the token's role claim"
    )
    token.add_argument("--sub", required=True, help="the user id (sub claim)")
    token.add_argument("--organizer-id", help="the organizer an organizer token acts for")
    token.set_defaults(func=cmd_token)

    hooks = sub.add_parser("webhooks", help="inspect or replay stored webhook events")
    hooks_sub = hooks.add_subparsers(dest="action", required=True)
    listing = hooks_sub.add_parser("list", help="list stored events, newest first")
    listing.add_argument(
        "--status",
        choices=["pending", "processed", "retrying", "dead", "ignored"],
        help="only events in this status (dead: dead-lettered, needs a person)",
    )
    listing.add_argument(
        "--limit", type=int, default=50, help="at most this many (default: %(default)s)"
    )
    replay = hooks_sub.add_parser("replay", help="apply one stored event again, now")
    replay.add_argument("id", help="stored event row id (first column of `webhooks list`)")
    replay.add_argument(
        "--queue-only",
        action="store_true",
        help="only make it due again, for a running worker to apply",
    )
    hooks.set_defaults(func=cmd_webhooks)

    selftest = sub.add_parser("selftest", help="drive a running service through the scenarios")
    selftest.add_argument("--base-url", help="a running service; default: start a demo stack")
    selftest.set_defaults(func=cmd_selftest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except Refused as exc:
        print(f"eventpay {args.command}: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
