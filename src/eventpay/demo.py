"""`make demo`: migrate SQLite, start the Stripe sandbox, the API and the worker, seed, print.

Everything runs in this one process (the sandbox and the worker in threads) and stops on
Ctrl-C. The same stack, on free loopback ports with a throwaway SQLite file, is what
`eventpay selftest` without `--base-url` runs against (`run_selftest_for`): the self-test
itself is a black-box client and starts nothing. Refused in production: the demo wires the
sandbox and mints development tokens.
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import structlog

from eventpay.bootstrap import build_container, configure_logging
from eventpay.config import Settings
from eventpay.db import migrate, printable_url
from eventpay.ports import Role
from eventpay.sample_data import MEMBER_ID, NON_MEMBER_ID, seed
from eventpay.selftest import Credentials, run_selftest
from eventpay.serving import ThreadedServer, free_port, port_is_free
from eventpay.web import create_app
from eventpay.web.auth import issue_token
from eventpay.worker import Worker

SANDBOX_PORT = 12111
PAYPAL_SANDBOX_PORT = 12112
LOOPBACK = "127.0.0.1"


def _port_of(base: str, default: int) -> int:
    tail = base.rstrip("/").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else default


def _sandbox_port(settings: Settings) -> int:
    return _port_of(settings.stripe_api_base, SANDBOX_PORT)


@dataclass
class Stack:
    """What `start_stack` started; `stop_stack` stops all of it."""

    sandbox: ThreadedServer
    api: ThreadedServer
    worker: Worker
    paypal: ThreadedServer | None = None


def start_stack(settings: Settings) -> Stack:
    """Sandboxes, API and worker for `settings`; the caller stops them (see `stop_stack`)."""
    from eventpay.sandbox.paypal import create_app as create_paypal_sandbox
    from eventpay.sandbox.stripe import create_app as create_sandbox

    if settings.is_production:
        raise RuntimeError("the demo stack never runs in production")
    ports = [settings.port, _sandbox_port(settings)]
    if settings.paypal_enabled:
        ports.append(_port_of(settings.paypal_api_base, PAYPAL_SANDBOX_PORT))
    for port in ports:
        if not port_is_free(port, settings.host):
            raise RuntimeError(
                f"port {port} is in use; set EVENTPAY_PORT / EVENTPAY_STRIPE_API_BASE to others"
            )
    migrate(settings.database_url)
    container = build_container(settings)
    seed(uow_factory=container.uow_factory, now=container.clock())
    webhook_url = f"http://{settings.host}:{settings.port}/v1/webhooks/stripe"
    secret = settings.stripe_webhook_secrets[0].get_secret_value()
    sandbox = ThreadedServer(
        create_sandbox(environment=settings.environment.value, endpoints=[(webhook_url, secret)]),
        host=settings.host,
        port=_sandbox_port(settings),
        name="stripe-sandbox",
    ).start()
    paypal = None
    if settings.paypal_enabled:
        paypal_hook = f"http://{settings.host}:{settings.port}/v1/webhooks/paypal"
        paypal = ThreadedServer(
            create_paypal_sandbox(
                environment=settings.environment.value,
                webhooks=[(paypal_hook, settings.paypal_webhook_id)],
                client_id=settings.paypal_client_id,
                client_secret=settings.paypal_client_secret.get_secret_value(),
            ),
            host=settings.host,
            port=_port_of(settings.paypal_api_base, PAYPAL_SANDBOX_PORT),
            name="paypal-sandbox",
        ).start()
    api = ThreadedServer(
        create_app(container=container), host=settings.host, port=settings.port, name="api"
    ).start()
    worker = Worker(container)
    worker.start_thread()
    return Stack(sandbox=sandbox, api=api, worker=worker, paypal=paypal)


def stop_stack(stack: Stack) -> None:
    stack.worker.stop()
    stack.worker.join()
    stack.api.stop()
    stack.sandbox.stop()
    if stack.paypal is not None:
        stack.paypal.stop()


def seed_sample_catalog(settings: Settings) -> str:
    """`eventpay seed`: the sample catalog and member in the configured database; what it did."""
    container = build_container(settings, pool_size=1)
    try:
        added = seed(uow_factory=container.uow_factory, now=container.clock())
    finally:
        container.close()
    events = ", ".join(added) or "all there"
    return f"sample catalog: {len(added)} events added ({events}), member {MEMBER_ID}"


def demo_tokens(settings: Settings) -> tuple[str, str]:
    """Competitor tokens for the seeded member and non-member, accepted by this stack's API."""
    key = settings.jwt_key.get_secret_value()
    member, non_member = (
        issue_token(
            key=key,
            algorithm=settings.jwt_algorithm,
            subject=subject,
            role=Role.COMPETITOR,
            audience=settings.jwt_audience,
        )
        for subject in (MEMBER_ID, NON_MEMBER_ID)
    )
    return member, non_member


def banner(settings: Settings, *, api_url: str, stripe_url: str, paypal_url: str | None) -> str:
    """What the demo prints once it runs; the database password never appears in it."""
    member, non_member = demo_tokens(settings)
    return f"""
eventpay demo is running (database: {printable_url(settings.database_url)})

  API            {api_url}
  API docs       {api_url}/docs
  Events         {api_url}/v1/events
  Stripe sandbox {stripe_url}
  PayPal sandbox {paypal_url or "(disabled)"}

Competitor token (member {MEMBER_ID}):
  {member}
Competitor token (non-member {NON_MEMBER_ID}):
  {non_member}

Try:  curl -s {api_url}/v1/events
Self-test against it:  .venv/bin/eventpay selftest --base-url {api_url}
Press Ctrl-C to stop.
"""


def run_demo(settings: Settings) -> int:
    configure_logging(settings)
    stack = start_stack(settings)
    paypal_url = stack.paypal.url if stack.paypal else None
    print(
        banner(
            settings, api_url=stack.api.url, stripe_url=stack.sandbox.url, paypal_url=paypal_url
        ),
        flush=True,
    )
    stopped = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stopped.wait()
    print("stopping...", flush=True)
    stop_stack(stack)
    return 0


@contextmanager
def _quiet_info_logs() -> Iterator[None]:
    """Hide the in-process stack's info lines, which would interleave with the report."""
    previous = structlog.get_config()
    # Warnings and errors still show: an over-payment or a dead letter matters to the reader.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**previous)


@contextmanager
def throwaway_stack(settings: Settings) -> Iterator[str]:
    """A demo stack on free loopback ports and a temporary SQLite file; yields the API's URL."""
    with tempfile.TemporaryDirectory(prefix="eventpay-selftest-") as tmp:
        local = settings.model_copy(
            update={
                "database_url": f"sqlite:///{Path(tmp) / 'selftest.db'}",
                # Loopback only: a throwaway stack with a card sandbox is nobody else's business.
                "host": LOOPBACK,
                "port": free_port(LOOPBACK),
                "stripe_api_base": f"http://{LOOPBACK}:{free_port(LOOPBACK)}",
                "paypal_api_base": f"http://{LOOPBACK}:{free_port(LOOPBACK)}",
            }
        )
        with _quiet_info_logs():
            stack = start_stack(local)
            try:
                yield stack.api.url
            finally:
                stop_stack(stack)


def selftest_credentials(settings: Settings) -> Credentials:
    """What the self-test needs to know as the operator of a service run with `settings`."""
    return Credentials(
        stripe_webhook_secret=settings.stripe_webhook_secrets[0].get_secret_value(),
        paypal_client_secret=settings.paypal_client_secret.get_secret_value(),
        paypal_webhook_id=settings.paypal_webhook_id,
        jwt_key=settings.jwt_key.get_secret_value(),
        jwt_algorithm=settings.jwt_algorithm,
        jwt_audience=settings.jwt_audience,
    )


def run_selftest_for(settings: Settings, *, base_url: str | None) -> int:
    """`eventpay selftest`: against `base_url`, or a throwaway stack when None.

    Exit status 0 when no scenario failed, 1 when one did (or the stack did not start), 2 when
    refused: the self-test mints development tokens and pays with test cards.
    """
    if settings.is_production:
        print(
            "refused: the self-test mints development tokens and pays with test cards; "
            "it never runs in production",
            file=sys.stderr,
        )
        return 2
    with ExitStack() as stack:
        if base_url is None:
            try:
                base_url = stack.enter_context(throwaway_stack(settings))
            except RuntimeError as exc:
                print(f"could not start a demo stack: {exc}", file=sys.stderr)
                return 1
        status = run_selftest(selftest_credentials(settings), base_url=base_url)
    return status
