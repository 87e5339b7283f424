"""Injectable faults for the service's tests: the next N matching API requests fail or are slow.

A fault is armed with `{"path_prefix", "method"?, "mode", "delay_s"?, "times"?, "status"?,
"body"?}` on `POST /_sandbox/faults`. `http_500` means the provider's internal error without
running the request (as if it failed in front of the API, so no idempotent result is kept and a
retry with the same key runs it); `delay` sleeps first and then performs the operation, like a
slow server, which provokes client timeouts whose outcome the client cannot know. `status`
(only where a sandbox offers it) answers `status` without running the request: with `body`,
that JSON exactly (how a test gets a malformed 2xx); without, the provider's own error for that
status (401, 403, 409, 429, 503...). Each sandbox's gateway decides what its provider's answers
look like; nothing here touches sandbox objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["http_500", "delay", "status"]
MODES: tuple[Mode, ...] = ("http_500", "delay", "status")
# What every sandbox's gateway handles; `status` is offered by those that render it.
BASIC_MODES: tuple[Mode, ...] = ("http_500", "delay")


class FaultSpecError(ValueError):
    """The control JSON for a fault is malformed."""


@dataclass
class Fault:
    """Matches requests whose path starts with `path_prefix` (and `method`, if given)."""

    id: str
    path_prefix: str
    method: str | None
    mode: Mode
    delay_s: float
    times: int
    remaining: int
    status: int | None = None
    body: dict[str, Any] | None = None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in (None, method.upper())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _status_and_body(spec: dict[str, Any], mode: str) -> tuple[int | None, dict[str, Any] | None]:
    status, body = spec.get("status"), spec.get("body")
    if mode != "status":
        if status is not None or body is not None:
            raise FaultSpecError("status and body belong to mode 'status'")
        return None, None
    lowest = 200 if body is not None else 400
    if isinstance(status, bool) or not isinstance(status, int) or not lowest <= status <= 599:
        raise FaultSpecError(f"status must be an HTTP status between {lowest} and 599")
    if body is not None and not isinstance(body, dict):
        raise FaultSpecError("body must be a JSON object")
    return status, body


def parse_fault(
    spec: Any,
    *,
    default_prefix: str,
    new_id: Callable[[], str],
    modes: tuple[Mode, ...] = BASIC_MODES,
) -> Fault:
    """A Fault from the control JSON; `default_prefix` is the provider's API root and `modes`
    the modes this sandbox's gateway renders."""
    if not isinstance(spec, dict):
        raise FaultSpecError("body must be a JSON object")
    unknown = set(spec) - {"path_prefix", "method", "mode", "delay_s", "times", "status", "body"}
    if unknown:
        raise FaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
    prefix = spec.get("path_prefix", default_prefix)
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise FaultSpecError("path_prefix must be a path starting with '/'")
    method = spec.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise FaultSpecError("method must be an HTTP method name or null")
    mode = spec.get("mode")
    if mode not in modes:
        raise FaultSpecError(f"mode must be one of {', '.join(modes)}")
    status, body = _status_and_body(spec, mode)
    delay = spec.get("delay_s", 1.0 if mode == "delay" else 0.0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 300:
        raise FaultSpecError("delay_s must be a number of seconds between 0 and 300")
    times = spec.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise FaultSpecError("times must be a positive integer")
    return Fault(
        id=new_id(),
        path_prefix=prefix,
        method=method.upper() if method else None,
        mode=mode,
        delay_s=float(delay),
        times=times,
        remaining=times,
        status=status,
        body=body,
    )


class FaultBook:
    """Armed faults, first added first used; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request suffers, using one of its `times`; None for a healthy request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def armed(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
