"""The `eventpay` command: serve, worker, migrate, demo, sandbox, token, webhooks, selftest."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventpay.config import Environment, Settings
from eventpay.ports import Role

if TYPE_CHECKING:
    from eventpay.bootstrap import Container


def _settings() -> Settings:
    return Settings()


def cmd_migrate(_: argparse.Namespace) -> int:
    from eventpay.db import migrate

    settings = _settings()
    migrate(settings.database_url)
    print("database migrated")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
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


def cmd_worker(args: argparse.Namespace) -> int:
    from eventpay.bootstrap import build_container, configure_logging
    from eventpay.worker import Worker

    settings = _settings()
    configure_logging(settings)
    container = build_container(settings, pool_size=2)
    worker = Worker(container)
    try:
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


def cmd_sandbox(args: argparse.Namespace) -> int:
    from eventpay.sandbox.stripe import run

    settings = _settings()
    endpoints = [(args.webhook_url, args.webhook_secret)] if args.webhook_url else []
    run(
        host=args.host,
        port=args.port,
        endpoints=endpoints,
        environment=settings.environment.value,
    )
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from eventpay.demo import run_demo

    return run_demo(_settings())


def cmd_selftest(args: argparse.Namespace) -> int:
    from eventpay.selftest import run_selftest

    return run_selftest(_settings(), base_url=args.base_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventpay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="apply stored webhook events")
    worker.add_argument("--once", action="store_true", help="drain due events and exit")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="run everything locally with sample data").set_defaults(
        func=cmd_demo
    )

    sandbox = sub.add_parser("sandbox", help="run the Stripe sandbox on its own")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=12111)
    sandbox.add_argument("--webhook-url")
    sandbox.add_argument("--webhook-secret", default="whsec_eventpay_sandbox_secret")
    sandbox.set_defaults(func=cmd_sandbox)

    token = sub.add_parser("token", help="print a development JWT")
    token.add_argument("--role", choices=[r.value for r in Role], required=True)
    token.add_argument("--sub", required=True)
    token.add_argument("--organizer-id")
    token.set_defaults(func=cmd_token)

    hooks = sub.add_parser("webhooks", help="inspect or replay stored webhook events")
    hooks_sub = hooks.add_subparsers(dest="action", required=True)
    listing = hooks_sub.add_parser("list")
    listing.add_argument(
        "--status", choices=["pending", "processed", "retrying", "dead", "ignored"]
    )
    listing.add_argument("--limit", type=int, default=50)
    replay = hooks_sub.add_parser("replay", help="apply one stored event again, now")
    replay.add_argument("id", help="stored event row id")
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
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
