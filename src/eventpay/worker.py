"""The webhook worker loop: apply stored events, and now and then resolve unknown payments.

Any number of workers may run against one database: PostgreSQL hands each one different rows
(`FOR UPDATE SKIP LOCKED`), SQLite serialises them. `stop` ends the loop after the current event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from eventpay.bootstrap import Container
from eventpay.services import (
    janitor,
    membership_fees,
    open_attempts,
    payouts,
    sponsor_fees,
    webhooks,
)

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, container: Container, *, janitor_every_s: float | None = None) -> None:
        self._c = container
        self._stop = threading.Event()
        self._janitor_every_s = (
            container.settings.worker_janitor_interval_s
            if janitor_every_s is None
            else janitor_every_s
        )
        self._last_janitor = 0.0
        self._thread: threading.Thread | None = None

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> int:
        """Apply every due event; returns how many were handled."""
        handled = 0
        while not self._stop.is_set():
            event = webhooks.process_next(
                uow_factory=self._c.uow_factory,
                providers=self._c.providers,
                clock=self._c.clock,
                retry=self._c.retry,
            )
            if event is None:
                break
            handled += 1
            self._c.metrics.webhooks_processed.labels(
                event.provider.value, event.status.value
            ).inc()
        return handled

    def run_janitor(self) -> int:
        """Finish what a lost answer left open; returns how many payments it resolved."""
        c = self._c
        resolved = 0
        tasks: dict[str, Callable[[], int]] = {
            "resolve_unknown": lambda: janitor.resolve_unknown(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock, urls=c.return_urls
            ),
            "capture_approved": lambda: janitor.capture_approved(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "read_in_flight": lambda: janitor.read_in_flight(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "read_fees": lambda: janitor.read_fees(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "read_membership_fees": lambda: membership_fees.read_charge_fees(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "read_sponsor_fees": lambda: sponsor_fees.read_payment_fees(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "send_refunds": lambda: janitor.send_refunds(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "send_transfers": lambda: janitor.send_transfers(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "close_superseded": lambda: open_attempts.close_superseded(
                uow_factory=c.uow_factory, providers=c.providers, clock=c.clock
            ),
            "release_expired": lambda: janitor.release_expired(
                uow_factory=c.uow_factory, clock=c.clock
            ),
            "check_payouts": lambda: payouts.check_due(
                uow_factory=c.uow_factory, rails=c.payout_rails, clock=c.clock
            ),
        }
        for name, task in tasks.items():
            # One task failing (a provider switched off, a bad row) must not starve the others.
            try:
                done = task()
            except Exception:
                log.exception("janitor.task_failed", task=name)
                continue
            if name == "resolve_unknown":
                resolved = done
        return resolved

    def run_forever(self) -> None:
        log.info("worker.started")
        while not self._stop.is_set():
            try:
                self.run_once()
                if time.monotonic() - self._last_janitor >= self._janitor_every_s:
                    self._last_janitor = time.monotonic()
                    self.run_janitor()
            except Exception:
                log.exception("worker.loop_error")
                self._stop.wait(1.0)
            self._stop.wait(self._c.settings.worker_poll_interval_s)
        log.info("worker.stopped")

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="eventpay-worker", daemon=True)
        thread.start()
        self._thread = thread
        return thread

    def join(self, timeout_s: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
