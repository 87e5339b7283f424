"""`run_selftest`: run every scenario against a service, print one line each, and a verdict.

Without a base URL the self-test starts its own demo stack (sandbox, API, worker) on free
loopback ports with a throwaway SQLite file, and stops it at the end. Scenarios are
independent (each makes its own order) and run in order; one failing or crashing never stops
the others. Refused in production: it mints development tokens and pays with test cards.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import structlog

from eventpay.config import Settings
from eventpay.selftest import (
    contract_scenarios,
    double_payment_scenarios,
    payment_scenarios,
    paypal_scenarios,
    paypal_webhook_scenarios,
    refund_scenarios,
    webhook_scenarios,
)
from eventpay.selftest.checks import Scenario, ScenarioFailed
from eventpay.selftest.client import ServiceUnderTest
from eventpay.serving import free_port

SCENARIOS: tuple[Scenario, ...] = (
    *payment_scenarios.SCENARIOS,
    *webhook_scenarios.SCENARIOS,
    *paypal_scenarios.SCENARIOS,
    *paypal_webhook_scenarios.SCENARIOS,
    *double_payment_scenarios.SCENARIOS,
    *refund_scenarios.SCENARIOS,
    *contract_scenarios.SCENARIOS,
)
LOOPBACK = "127.0.0.1"


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
def own_stack(settings: Settings) -> Iterator[str]:
    """A demo stack for this run only; yields the API's base URL."""
    # Imported here so that a run against --base-url loads nothing of the server side.
    from eventpay.demo import start_stack, stop_stack

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


def _run_one(scenario: Scenario, sut: ServiceUnderTest) -> tuple[bool, str]:
    started = time.monotonic()
    try:
        detail = scenario.run(sut)
    except ScenarioFailed as exc:
        return False, f"FAIL {scenario.name}: {exc}"
    except httpx.HTTPError as exc:
        return False, f"FAIL {scenario.name}: {type(exc).__name__}: {exc}"
    except Exception as exc:
        # A crash is reported like any failure so that the remaining scenarios still run.
        return False, f"FAIL {scenario.name}: unexpected {type(exc).__name__}: {exc}"
    return True, f"PASS {scenario.name} ({detail}; {time.monotonic() - started:.1f}s)"


def run_selftest(settings: Settings, *, base_url: str | None) -> int:
    """Drive the service at `base_url` (or a fresh demo stack) through every scenario.

    Returns the exit status: 0 when every scenario passed, 1 when one failed, 2 when refused.
    """
    if settings.is_production:
        print(
            "refused: the self-test mints development tokens and pays with test cards; "
            "it never runs in production",
            file=sys.stderr,
        )
        return 2
    passed = failed = 0
    with ExitStack() as stack:
        if base_url is None:
            try:
                base_url = stack.enter_context(own_stack(settings))
            except RuntimeError as exc:
                print(f"could not start a demo stack: {exc}", file=sys.stderr)
                return 1
        sut = stack.enter_context(ServiceUnderTest(settings, base_url))
        print(f"eventpay selftest against {sut.base_url}", flush=True)
        for scenario in SCENARIOS:
            ok, line = _run_one(scenario, sut)
            print(line, flush=True)
            passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1
