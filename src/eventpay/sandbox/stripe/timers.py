"""Changes Stripe makes on its own some time after a request, such as a refund that fails later.

`Later` runs each scheduled action once, after `delay_s`, on a daemon timer thread; `cancel_all`
forgets whatever has not run yet (on reset and at shutdown). Actions take the store's lock
themselves and must check that the objects they change still exist: a reset may have come first.
Nothing here knows about sandbox objects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Action = Callable[[], None]


class Later:
    """Actions waiting to run `delay_s` seconds after they were scheduled; thread-safe."""

    def __init__(self, delay_s: float) -> None:
        if delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()

    def schedule(self, action: Action) -> None:
        timer: threading.Timer

        def run() -> None:
            with self._lock:
                if timer not in self._timers:
                    return
                self._timers.discard(timer)
            try:
                action()
            except Exception:
                # A timer thread has nobody to report to: log, and keep the sandbox serving.
                log.exception("scheduled sandbox action failed")

        timer = threading.Timer(self.delay_s, run)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def cancel_all(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
